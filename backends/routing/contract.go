package routing

import (
	"math"
	"strconv"
	"strings"

	"github.com/mcbench/mcbench/results"
)

// The optional interfaces below extend what the engines (sim and loadgen)
// do for a request. An engine finds them with a type assertion on the policy
// New returns, once per policy, and keeps its default behaviour for those a
// policy does not implement. The contract for every engine:
//
// Every attempt: build a Request (ID, Attempt from 1, Prev = the previous
// attempt's candidate or -1, U = the draw for (request, attempt), token
// counts, Deadline, Last, Tags, Memo carried from the previous attempt's
// Request), call Pick; -1 fails the request with error class no_route. Call
// Starter.Started(now, dep) just before sending. When the attempt ends
// (success, error, timeout, TTFT timeout, or cancellation as a hedge loser),
// call Observe exactly once with the attempt's Observation, so that policies
// counting attempts in flight stay balanced. Observe's now may be earlier
// than the latest Pick's (the load generator reports an attempt at its
// Done while other requests pick): policies tolerate it.
//
// Retrier: after Observe of a failed attempt, if attempts remain
// (routing.max_attempts), call Retry(now, r, o) with the attempt's Request;
// ok false ends the request with that attempt's outcome; otherwise wait
// delay (0: at once) and start the next attempt, carrying r.Memo. Without a
// Retrier, engines keep their rule: backoff × 2^(attempt-1), at least the
// attempt's RetryAfter when throttled.
//
// AttemptTimer: when sending an attempt, call FirstTokenTimeout(now, r); if
// it returns t > 0 and no first token has arrived by now + t, abort the
// attempt (status timed_out, error class "ttft_timeout"), Observe it and go
// on as after any failed attempt. It is independent of routing.timeout, the
// whole-attempt timeout; whichever fires first ends the attempt.
//
// Hedger: when sending an attempt that is not itself a hedge, call
// HedgeDelay(now, r, dep). If ok, arm a timer at now + delay. When it fires,
// if the attempt is still in flight without a first token and no hedge was
// sent for it, Pick again with a Request for the same request: Hedge true,
// Prev = the hedged attempt's candidate, Attempt = the next attempt number
// (a hedge counts towards max_attempts; do not hedge when none remain), U =
// the draw for that attempt number, Last = the zero Observation; skip the
// hedge if Pick returns -1 or the hedged candidate. Send it (Started as
// usual). The first of the two to produce a first token wins; cancel the
// other at once and Observe it with status failed and error class
// "cancelled" (policies ignore that class as health evidence, and the
// record counts the loser's tokens as cost). If one of them fails before
// either has a first token, the other carries on alone and no retry starts
// while it is in flight; if both fail, the later failure is the one Retry
// sees.
//
// Candidate prices (PriceInputPerMTok, PriceOutputPerMTok), Request.Tags and
// Request.Deadline are the engines' to fill: prices from the pricing tables,
// Tags from the workload, Deadline as arrival + the deadline policy's
// budget (else the workload's SLO e2e, else 0). Observation.InputTokens,
// MaxTokens and OutputTokens feed quota accounting.

// Retrier is implemented by policies that decide whether and when a failed
// attempt is retried, instead of the engines' backoff rule.
type Retrier interface {
	// Retry is called after Observe of attempt r that ended as o (not OK),
	// while attempts remain. ok false ends the request; otherwise the next
	// attempt starts delay nanoseconds from now. It may update r.Memo.
	Retry(now int64, r *Request, o *Observation) (delay int64, ok bool)
}

// AttemptTimer is implemented by policies that cap the wait for an
// attempt's first token.
type AttemptTimer interface {
	// FirstTokenTimeout returns how long after now (the attempt's send time)
	// the engine gives up on an attempt that has produced no first token
	// (0: no limit).
	FirstTokenTimeout(now int64, r *Request) int64
}

// Hedger is implemented by policies that send a second, hedge attempt when
// the first is slow to produce its first token.
type Hedger interface {
	// HedgeDelay is called when attempt r is sent to candidate primary. ok
	// says whether to arm a hedge; delay is how long after now to send it
	// if the attempt still has no first token.
	HedgeDelay(now int64, r *Request, primary int) (delay int64, ok bool)
}

// Error classes the policies give a meaning beyond their status. The
// simulator and the load generator write the others ("outage", "http_503",
// "connection", ...); see classify.
const (
	// ClassCancelled is the class of a hedge loser the engine cancelled: not
	// evidence about the deployment's health.
	ClassCancelled = "cancelled"
	// ClassTTFTTimeout is the class of an attempt an AttemptTimer aborted.
	ClassTTFTTimeout = "ttft_timeout"
	// ClassContextLength: the prompt exceeds the model's context window
	// (Azure context_length_exceeded, Bedrock ValidationException).
	ClassContextLength = "context_length"
	// ClassContentFilter: a content filter or guardrail refused the request
	// (Azure 400 content_filter, Bedrock guardrail_intervened).
	ClassContentFilter = "content_filter"
	// ClassAuth: the credentials were refused (401, 403).
	ClassAuth = "auth"
	// ClassNotFound: the deployment or model does not exist (404).
	ClassNotFound = "not_found"
)

// outcome is what an Observation means to a policy.
type outcome uint8

const (
	outOK            outcome = iota
	outThrottled             // 429: quota, not health
	outServer                // 5xx, outage, queue full, broken stream
	outConnection            // connection refused or reset before a response
	outTimeout               // no answer in time (whole attempt or first token)
	outClient                // other 4xx: the request is at fault
	outContextLength         // the prompt does not fit the model
	outContentFilter         // refused by a filter
	outAuth                  // credentials refused
	outNotFound              // no such deployment
	outCancelled             // hedge loser: no evidence
)

// classify reads an Observation the same way for every policy. The error
// class refines the status where the engines name it (the simulator's
// "quota_tokens", the load generator's "http_401").
func classify(o *Observation) outcome {
	switch o.ErrorClass {
	case ClassCancelled:
		return outCancelled
	case ClassContextLength, "context_length_exceeded":
		return outContextLength
	case ClassContentFilter:
		return outContentFilter
	case ClassAuth, "http_401", "http_403":
		return outAuth
	case ClassNotFound, "http_404":
		return outNotFound
	case "connection", "reset":
		return outConnection
	case ClassTTFTTimeout, "timeout", "silent", "http_408":
		if o.Status != results.StatusOK {
			return outTimeout
		}
	}
	switch o.Status {
	case results.StatusOK:
		return outOK
	case results.StatusThrottled:
		return outThrottled
	case results.StatusTimedOut:
		return outTimeout
	case results.StatusClientError:
		return outClient
	}
	return outServer // failed, rejected, anything unknown
}

// serverError reports whether an outcome counts as a 5xx for health
// tracking: Envoy's outlier detection maps local connect failures and
// timeouts to 503/504 unless split_external_local_origin_errors is set.
func (c outcome) serverError() bool {
	return c == outServer || c == outConnection || c == outTimeout
}

// httpStatus is the HTTP status an Observation stands for, for policies
// that reproduce a gateway's status-code rules (LiteLLM's cooldowns).
func httpStatus(o *Observation) int {
	if n, ok := strings.CutPrefix(o.ErrorClass, "http_"); ok {
		if v, err := strconv.Atoi(n); err == nil {
			return v
		}
	}
	switch classify(o) {
	case outOK:
		return 200
	case outThrottled:
		return 429
	case outTimeout:
		return 408
	case outClient, outContextLength, outContentFilter:
		return 400
	case outAuth:
		return 401
	case outNotFound:
		return 404
	case outServer:
		if o.ErrorClass == "outage" || o.Status == results.StatusRejected {
			return 503
		}
	}
	return 500
}

// ttftOf is an attempt's time to first token, or -1 when it produced none.
func ttftOf(o *Observation) int64 {
	if o.Status != results.StatusOK || o.FirstToken <= 0 || o.FirstToken < o.Sent {
		return -1
	}
	return o.FirstToken - o.Sent
}

// second derives a second uniform draw in [0, 1) from u, so a policy that
// needs two random choices (p2c, exploration plus a tie-break, jitter) stays
// a function of the request's one draw. It hashes u's bits with splitmix64:
// the fractional-part trick would correlate the two draws.
func second(u float64) float64 {
	z := math.Float64bits(u) + 0x9e3779b97f4a7c15
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	z ^= z >> 31
	return float64(z>>11) / (1 << 53)
}

// index maps a uniform draw to one of n choices.
func index(u float64, n int) int {
	i := int(u * float64(n))
	return min(max(i, 0), n-1)
}

// nextFrom returns the first candidate after prev (wrapping, prev itself
// last) for which ok holds, or -1. With prev < 0 it scans from 0.
func nextFrom(n, prev int, ok func(int) bool) int {
	start := 0
	if prev >= 0 {
		start = prev + 1
	}
	for k := range n {
		if i := (start + k) % n; ok(i) {
			return i
		}
	}
	return -1
}
