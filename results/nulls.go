package results

import (
	"bytes"
	"encoding/json"
	"math"
)

// A figure that could not be measured is NaN in memory and null in
// summary.json. Num and CI carry that rule themselves; the plain float64
// fields below (latencies, throughput, Little's check) get it from these
// marshalers, so no summary ever fails to encode with "json: unsupported
// value: NaN" (an interrupted simulation leaves the strategies it never
// started with no figures at all). ReadSummary turns those nulls back into
// NaN (see markUnmeasured).

// finite reports whether x can be written as a JSON number.
func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

// MarshalJSON implements json.Marshaler: undefined figures are null.
func (l Latency) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		Mean     Num `json:"mean"`
		P50      Num `json:"p50"`
		P90      Num `json:"p90"`
		P99      Num `json:"p99"`
		Max      Num `json:"max"`
		MeanCI95 CI  `json:"mean_ci95"`
		P99CI95  CI  `json:"p99_ci95"`
	}{Num(l.Mean), Num(l.P50), Num(l.P90), Num(l.P99), Num(l.Max), l.MeanCI95, l.P99CI95})
}

// MarshalJSON implements json.Marshaler: undefined figures are null.
func (c LittleCheck) MarshalJSON() ([]byte, error) {
	return json.Marshal(struct {
		L       Num `json:"l"`
		LambdaW Num `json:"lambda_w"`
	}{Num(c.L), Num(c.LambdaW)})
}

// MarshalJSON implements json.Marshaler: an undefined throughput (a
// strategy an interrupted run never started) is null.
func (r Result) MarshalJSON() ([]byte, error) {
	type plain Result // plain has no methods: no recursion
	null := zeroNonFinite(nullable{"throughput_rps", &r.ThroughputRPS})
	b, err := json.Marshal(plain(r))
	return nullKeys(b, err, null)
}

// MarshalJSON implements json.Marshaler: undefined figures are null.
func (s SessionResult) MarshalJSON() ([]byte, error) {
	type plain SessionResult
	null := zeroNonFinite(nullable{"mean_steps", &s.MeanSteps}, nullable{"retries_per_session", &s.RetriesPerSession})
	b, err := json.Marshal(plain(s))
	return nullKeys(b, err, null)
}

// MarshalJSON implements json.Marshaler: undefined figures are null.
func (l Load) MarshalJSON() ([]byte, error) {
	type plain Load
	null := zeroNonFinite(nullable{"rate", &l.Rate}, nullable{"schedule_seconds", &l.ScheduleSeconds},
		nullable{"duration_seconds", &l.DurationSeconds}, nullable{"warmup_seconds", &l.WarmupSeconds},
		nullable{"output_tokens_per_second", &l.OutputTokensPerSecond})
	b, err := json.Marshal(plain(l))
	return nullKeys(b, err, null)
}

// nullable is a plain float64 field of a value about to be marshalled and
// its JSON key.
type nullable struct {
	key string
	x   *float64
}

// zeroNonFinite zeroes the fields of fs that JSON cannot hold (NaN, ±Inf)
// and returns their keys.
func zeroNonFinite(fs ...nullable) []string {
	var keys []string
	for _, f := range fs {
		if !finite(*f.x) {
			*f.x = 0
			keys = append(keys, f.key)
		}
	}
	return keys
}

// nullKeys rewrites, in an object marshalled after zeroNonFinite, each of
// keys from "key":0 to "key":null, keeping the fields' order. The first
// match is the object's own field: its fields come before those of the
// objects it nests, and a JSON string cannot hold an unescaped quote.
func nullKeys(b []byte, err error, keys []string) ([]byte, error) {
	if err != nil {
		return nil, err
	}
	for _, k := range keys {
		for _, end := range []string{",", "}"} {
			from := []byte(`"` + k + `":0` + end)
			if i := bytes.Index(b, from); i >= 0 {
				b = append(b[:i:i], append([]byte(`"`+k+`":null`+end), b[i+len(from):]...)...)
				break
			}
		}
	}
	return b, nil
}

// UnmeasuredLatency is the Latency of a distribution with no value at all
// (null in summary.json), as opposed to one whose values are all zero.
func UnmeasuredLatency() Latency {
	return Latency{Mean: nan, P50: nan, P90: nan, P99: nan, Max: nan, MeanCI95: NoCI, P99CI95: NoCI}
}

// Unmeasured reports whether a result has no figures: a strategy that an
// interrupted run never started (no replication of it ran).
func (r *Result) Unmeasured() bool { return r.Replications == 0 && r.Requests == 0 }

// MarkUnmeasured gives a result that measured nothing (Unmeasured) null
// figures instead of zeros that would read as measurements.
func (r *Result) MarkUnmeasured() {
	r.ThroughputRPS, r.ThroughputRPSCI95 = nan, NoCI
	r.PWait, r.PWaitCI95 = Unknown, NoCI
	r.WaitSeconds, r.Little = nil, nil
	r.TTFTSeconds, r.E2ESeconds = UnmeasuredLatency(), UnmeasuredLatency()
	r.TokenCostUSD, r.TokenCostUSDCI95, r.TokenCostPer1kRequests = Unknown, NoCI, Unknown
	r.TokenCostPerSuccessfulRequest, r.TokenCostPerSuccessfulRequestCI95 = Unknown, NoCI
	for i := range r.Deployments {
		r.Deployments[i].Utilization = Unknown
	}
}

// markUnmeasured restores, after decoding, the NaNs a summary wrote as
// null in the float64 fields of results that measured nothing (decoding
// null into a float64 leaves 0, which would read as a measurement).
func markUnmeasured(s *Summary) {
	for i := range s.Results {
		if r := &s.Results[i]; r.Unmeasured() {
			r.MarkUnmeasured()
		}
	}
}
