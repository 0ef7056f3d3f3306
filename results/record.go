package results

// Status is how an attempt or a request ended.
type Status uint8

// Outcome statuses. The zero value is OK so a fresh record reads as success.
const (
	// StatusOK: the response completed.
	StatusOK Status = iota
	// StatusThrottled: rejected by a quota (HTTP 429).
	StatusThrottled
	// StatusRejected: rejected for lack of capacity (queue full, loss system).
	StatusRejected
	// StatusFailed: the deployment failed (outage, 5xx, connection reset).
	StatusFailed
	// StatusTimedOut: the client gave up waiting.
	StatusTimedOut
	// StatusClientError: the request itself was wrong (4xx other than 429).
	StatusClientError
)

var statusNames = [...]string{"ok", "throttled", "rejected", "failed", "timed_out", "client_error"}

// String returns the status as written in records ("ok", "throttled", …).
func (s Status) String() string {
	if int(s) < len(statusNames) {
		return statusNames[s]
	}
	return "unknown"
}

// ParseStatus is the inverse of Status.String.
func ParseStatus(s string) (Status, bool) {
	for i, n := range statusNames {
		if n == s {
			return Status(i), true
		}
	}
	return 0, false
}

// Kind says whether a record is one attempt or one whole user-visible request.
type Kind uint8

// Record kinds.
const (
	// KindAttempt is one call to one deployment.
	KindAttempt Kind = iota
	// KindRequest is the user-visible request, retries and failover included.
	KindRequest
)

// String returns "attempt" or "request".
func (k Kind) String() string {
	if k == KindRequest {
		return "request"
	}
	return "attempt"
}

// Outcome is the record written for every attempt and every request, by the
// simulator and by the load generator alike; reports never ask which wrote it.
// Times are nanoseconds from the start of the run; a zero FirstToken or Done
// on a failed record means the event never happened.
type Outcome struct {
	Kind        Kind   `json:"kind"`
	Replication int32  `json:"replication"`
	RequestID   uint64 `json:"request_id"`
	Attempt     int32  `json:"attempt"` // 1-based; on a request record, the number of attempts made
	Class       string `json:"class"`
	Strategy    string `json:"strategy"`
	Provider    string `json:"provider"`
	Region      string `json:"region"`
	Deployment  string `json:"deployment"`
	// Intended is when the request (or attempt) was due to be sent.
	Intended int64 `json:"intended_ns"`
	// Sent is when it was actually sent.
	Sent int64 `json:"sent_ns"`
	// FirstByte is when the response headers arrived.
	FirstByte int64 `json:"first_byte_ns"`
	// FirstToken is when the first content token arrived.
	FirstToken int64 `json:"first_token_ns"`
	// Done is when the response (or the error) was complete.
	Done int64 `json:"done_ns"`
	// Queued is the time spent waiting for a slot at the deployment (on a
	// request record, summed over its attempts). The load generator writes
	// what the fakes report for a call they served, 0 for a call that was
	// refused or never answered (it held no slot), and -1 for a served call
	// whose deployment does not say (live endpoints).
	Queued       int64  `json:"queued_ns"`
	InputTokens  int32  `json:"input_tokens"`
	OutputTokens int32  `json:"output_tokens"`
	Status       Status `json:"status"`
	// ErrorClass names the error more precisely than Status ("outage", "quota_tokens", "queue_full").
	ErrorClass string `json:"error_class,omitempty"`
	// CrossCloudBytes is the payload that crossed between providers.
	CrossCloudBytes int64 `json:"cross_cloud_bytes"`
	// CostUSD is the attempt's pay-as-you-go token cost at the run's prices
	// (0 without prices or on provisioned capacity); on a request record,
	// the sum over its attempts, hedges included.
	CostUSD float64 `json:"cost_usd"`
	// Lag is how much later than its own plan the deployment delivered the
	// response's end, in ns: what a fake could not absorb (a stalled
	// machine), reported so it is not mistaken for a slower model. 0 in the
	// simulator, whose clock never lags; -1 where the deployment does not
	// say (live endpoints, and outcomes.csv files of schema 1.0).
	Lag int64 `json:"lag_ns"`
}

// Billed is the billing rule both engines and the reports apply to an
// attempt record. It reports whether an attempt's tokens are billed and how many:
// an attempt is billed when the model produced tokens (status ok, or a
// first token before a stream was cut or timed out). Throttled, rejected
// and failed attempts never reached the model and cost nothing. Output
// tokens are the ones recorded (what was delivered).
func Billed(status Status, firstToken int64, input, output int32) (in, out int64, ok bool) {
	if status != StatusOK && firstToken <= 0 {
		return 0, 0, false
	}
	return int64(input), int64(output), true
}
