package routing

import (
	"fmt"
	"sort"
	"strings"
	"time"
)

// Action is what ErrorClassRouter does after an attempt fails with a given
// class of error.
type Action string

// Actions.
const (
	// RetrySame retries on the same deployment after a backoff (at least
	// the Retry-After).
	RetrySame Action = "retry-same"
	// RetryOther retries at once on the next deployment not cooling down
	// (the same one if it is the only one left).
	RetryOther Action = "retry-other"
	// RetryOtherProvider retries at once on the next deployment of another
	// provider kind, and fails the request if there is none.
	RetryOtherProvider Action = "retry-other-provider"
	// Fail ends the request: no deployment will answer it differently.
	Fail Action = "fail"
	// Cooldown takes the deployment out for a while (its failure domain
	// with one) and retries at once on another.
	Cooldown Action = "cooldown"
)

// Error kinds an action table is keyed by.
const (
	KindThrottle      = "throttle"       // 429: quota or rate limit
	KindServer        = "server"         // 5xx, outage, queue full, broken stream
	KindConnection    = "connection"     // refused or reset before a response
	KindTimeout       = "timeout"        // no (first) token in time
	KindClient        = "client"         // other 4xx
	KindContextLength = "context_length" // prompt too long for the model
	KindContentFilter = "content_filter" // refused by a filter or guardrail
	KindAuth          = "auth"           // 401/403
	KindNotFound      = "not_found"      // 404
)

// kindOutcome maps table keys to outcomes.
var kindOutcome = map[string]outcome{
	KindThrottle: outThrottled, KindServer: outServer, KindConnection: outConnection, KindTimeout: outTimeout,
	KindClient: outClient, KindContextLength: outContextLength, KindContentFilter: outContentFilter,
	KindAuth: outAuth, KindNotFound: outNotFound,
}

// ErrorKinds lists the keys of an action table, sorted.
func ErrorKinds() []string {
	out := make([]string, 0, len(kindOutcome))
	for k := range kindOutcome {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// Actions lists the actions, in the order messages list them.
func Actions() []Action { return []Action{RetrySame, RetryOther, RetryOtherProvider, Fail, Cooldown} }

// ErrorClassConfig parameterises ErrorClassRouter (docs/references.md [8]).
type ErrorClassConfig struct {
	// Actions overrides the default table per error kind (KindThrottle, ...).
	// The defaults (docs/references.md [8]): throttle, server, connection,
	// timeout and context_length → retry-other (for a context-length error,
	// another deployment may be a larger-context model; the same one never
	// succeeds); client and content_filter → fail (a filter refusal is not
	// retried unless set to retry-other-provider, a compliance choice);
	// auth and not_found → cooldown (for AuthCooldown: credentials and
	// deployments do not heal in seconds).
	Actions map[string]Action
	// Cooldown is how long the cooldown action takes a deployment out for
	// kinds other than auth and not_found (default 5 s; at least the
	// Retry-After of a 429).
	Cooldown int64
	// AuthCooldown is the cooldown after auth and not-found errors (default
	// 5 min).
	AuthCooldown int64
	// Backoff is the base of the jittered exponential backoff of
	// retry-same, and of the pause before retrying elsewhere after a 429
	// that advertised no Retry-After (default 0.5 s, doubling, at most
	// MaxBackoff, default 8 s; jitter factor in (0.75, 1] as LiteLLM's).
	Backoff, MaxBackoff int64
	// Domain makes a cooldown take out the deployment's failure domain.
	Domain FailureDomain
}

// DefaultErrorClassConfig returns the default table and timings
// (docs/references.md [8]).
func DefaultErrorClassConfig() ErrorClassConfig {
	return ErrorClassConfig{Cooldown: int64(5 * time.Second), AuthCooldown: int64(5 * time.Minute),
		Backoff: int64(500 * time.Millisecond), MaxBackoff: int64(8 * time.Second), Domain: DomainDeployment}
}

// defaultActions is the default table (docs/references.md [8]), indexed by
// outcome.
func defaultActions() [outCancelled + 1]Action {
	var t [outCancelled + 1]Action
	for _, o := range []outcome{outThrottled, outServer, outConnection, outTimeout, outContextLength} {
		t[o] = RetryOther
	}
	t[outClient], t[outContentFilter] = Fail, Fail
	t[outAuth], t[outNotFound] = Cooldown, Cooldown
	return t
}

// ErrorClassRouter handles each kind of failure by its own rule: a
// table maps the kind of the failed attempt's error to retry-same,
// retry-other, retry-other-provider, fail or cooldown. First attempts go to
// the first candidate in placement order not cooling down (-1 if all are).
// It implements Retrier: fail ends the request, retry-same waits a jittered
// backoff (at least the Retry-After), the others retry at once except after
// a 429 without Retry-After, which waits the backoff first. Without the
// engines consulting Retry, a fail action makes Pick return -1.
type ErrorClassRouter struct {
	cfg   ErrorClassConfig
	table [outCancelled + 1]Action
	kinds []string
	dom   *domains
}

// NewErrorClassRouter builds the policy over cands (in preference order).
func NewErrorClassRouter(cfg ErrorClassConfig, cands []Candidate) (*ErrorClassRouter, error) {
	if len(cands) == 0 {
		return nil, fmt.Errorf("routing: no deployments to route to")
	}
	if cfg.Cooldown <= 0 || cfg.AuthCooldown <= 0 || cfg.Backoff < 0 || cfg.MaxBackoff < cfg.Backoff {
		return nil, fmt.Errorf("routing: error-class cooldowns must be > 0 and backoffs >= 0 (max >= base)")
	}
	e := &ErrorClassRouter{cfg: cfg, table: defaultActions(), kinds: make([]string, len(cands))}
	for k, a := range cfg.Actions {
		o, ok := kindOutcome[k]
		if !ok {
			return nil, fmt.Errorf("routing: unknown error kind %q (kinds: %s)", k, strings.Join(ErrorKinds(), ", "))
		}
		valid := false
		for _, v := range Actions() {
			valid = valid || a == v
		}
		if !valid {
			return nil, fmt.Errorf("routing: unknown action %q for %s", a, k)
		}
		e.table[o] = a
	}
	for i, c := range cands {
		e.kinds[i] = c.ProviderKind
	}
	dom, err := newDomains(cfg.Domain, cands)
	if err != nil {
		return nil, err
	}
	e.dom = dom
	return e, nil
}

// action returns what to do after an attempt that ended as o.
func (e *ErrorClassRouter) action(o *Observation) Action {
	c := classify(o)
	if c == outOK || c == outCancelled {
		return RetryOther
	}
	return e.table[c]
}

// Pick implements Policy.
func (e *ErrorClassRouter) Pick(now int64, r *Request) int {
	n := len(e.kinds)
	p := r.Prev
	if r.Attempt <= 1 || p < 0 || p >= n {
		return nextFrom(n, -1, func(i int) bool { return !e.dom.out(now, i) })
	}
	switch e.action(&r.Last) {
	case Fail:
		return -1
	case RetrySame:
		return p
	case RetryOtherProvider:
		return nextFrom(n, p, func(i int) bool { return e.kinds[i] != e.kinds[p] && !e.dom.out(now, i) })
	}
	if i := nextFrom(n, p, func(i int) bool { return i != p && !e.dom.out(now, i) }); i >= 0 {
		return i
	}
	if !e.dom.out(now, p) {
		return p
	}
	return -1
}

// Observe implements Policy: it applies cooldowns.
func (e *ErrorClassRouter) Observe(now int64, o *Observation) {
	if o.Dep < 0 || o.Dep >= len(e.kinds) || e.action(o) != Cooldown {
		return
	}
	d := e.cfg.Cooldown
	switch classify(o) {
	case outAuth, outNotFound:
		d = e.cfg.AuthCooldown
	case outThrottled:
		d = max(d, o.RetryAfter)
	}
	e.dom.eject(o.Dep, now+d)
}

// Retry implements Retrier.
func (e *ErrorClassRouter) Retry(now int64, r *Request, o *Observation) (int64, bool) {
	switch e.action(o) {
	case Fail:
		return 0, false
	case RetrySame:
		return max(o.RetryAfter, e.backoff(r)), true
	case RetryOtherProvider:
		// Only worth it if such a candidate exists.
		p := o.Dep
		if p < 0 || p >= len(e.kinds) {
			return 0, false
		}
		if nextFrom(len(e.kinds), p, func(i int) bool { return e.kinds[i] != e.kinds[p] && !e.dom.out(now, i) }) < 0 {
			return 0, false
		}
	}
	if classify(o) == outThrottled && o.RetryAfter <= 0 {
		return e.backoff(r), true
	}
	return 0, true
}

// backoff is the jittered exponential backoff before attempt r.Attempt+1.
func (e *ErrorClassRouter) backoff(r *Request) int64 {
	d := e.cfg.Backoff
	for i := 1; i < r.Attempt && d < e.cfg.MaxBackoff; i++ {
		d *= 2
	}
	d = min(d, e.cfg.MaxBackoff)
	return int64(float64(d) * (1 - 0.25*second(r.U)))
}

// Cooling reports whether candidate i is cooling down at now.
func (e *ErrorClassRouter) Cooling(now int64, i int) bool { return e.dom.out(now, i) }
