package routing

import (
	"fmt"
	"time"
)

// LiteLLMGroups says how LiteLLM model groups map onto the candidates.
type LiteLLMGroups string

// Group layouts.
const (
	// GroupsEach makes every candidate its own model group, the groups
	// chained by `fallbacks` in placement order: the usual cross-cloud setup
	// (an Azure GPT group falling back to a Bedrock Claude group), and the
	// one that exposes the single-deployment exemption (BerriAI/litellm#40405).
	GroupsEach LiteLLMGroups = "each"
	// GroupsOne puts every candidate in one model group, tried in placement
	// order (LiteLLM `order` priorities), with no fallbacks.
	GroupsOne LiteLLMGroups = "one"
)

// LiteLLMConfig parameterises LiteLLM, the faithful preset of LiteLLM's
// Router (BerriAI/litellm: router_utils/cooldown_handlers.py,
// router_utils/retry_utils.py, constants.py, and the reliability docs).
type LiteLLMConfig struct {
	// NumRetries is num_retries: retries within a model group before its
	// fallback (default 2, so 3 attempts per group).
	NumRetries int
	// CooldownTime is cooldown_time (default 5 s).
	CooldownTime int64
	// AllowedFails, if > 0, selects the v1 rule: a deployment is cooled when
	// its failures, counted with a TTL of CooldownTime refreshed by each,
	// exceed it. 0 (default: not set) selects the v2 rule.
	AllowedFails int
	// FailureThreshold is DEFAULT_FAILURE_THRESHOLD_PERCENT (0.5): v2 cools
	// a deployment whose failures this minute exceed it ...
	FailureThreshold float64
	// MinRequests ... with at least DEFAULT_FAILURE_THRESHOLD_MINIMUM_REQUESTS
	// (5) requests this minute, unless it is alone in its group.
	MinRequests int
	// SingleDeploymentThreshold is SINGLE_DEPLOYMENT_TRAFFIC_FAILURE_THRESHOLD
	// (1000): a deployment is also cooled when every one of at least this
	// many requests this minute failed (the only way, under v2, for a
	// deployment alone in its group).
	SingleDeploymentThreshold int
	// Groups is the model-group layout (default GroupsEach).
	Groups LiteLLMGroups
	// MaxFallbacks is ROUTER_MAX_FALLBACKS (5): groups after the first that
	// may be tried.
	MaxFallbacks int
	// InitialRetryDelay, MaxRetryDelay and MaxRetryAfter are the backoff
	// when no other healthy deployment is left in the group: a Retry-After
	// in (0, MaxRetryAfter] (60 s) is honoured as is, otherwise
	// min(InitialRetryDelay × 2^n, MaxRetryDelay) (0.5 s, 8 s) times a
	// jitter in (0.75, 1].
	InitialRetryDelay, MaxRetryDelay, MaxRetryAfter int64
	// Domain makes a cooldown take out the deployment's failure domain (not
	// LiteLLM's behaviour; default DomainDeployment).
	Domain FailureDomain
}

// DefaultLiteLLMConfig returns LiteLLM's defaults.
func DefaultLiteLLMConfig() LiteLLMConfig {
	return LiteLLMConfig{NumRetries: 2, CooldownTime: int64(5 * time.Second), FailureThreshold: 0.5, MinRequests: 5,
		SingleDeploymentThreshold: 1000, Groups: GroupsEach, MaxFallbacks: 5,
		InitialRetryDelay: int64(500 * time.Millisecond), MaxRetryDelay: int64(8 * time.Second), MaxRetryAfter: int64(60 * time.Second),
		Domain: DomainDeployment}
}

func (c *LiteLLMConfig) check() error {
	switch {
	case c.NumRetries < 0 || c.AllowedFails < 0 || c.MaxFallbacks < 0:
		return fmt.Errorf("routing: litellm num_retries, allowed_fails and max_fallbacks must be >= 0")
	case c.CooldownTime <= 0:
		return fmt.Errorf("routing: litellm cooldown must be > 0")
	case !(c.FailureThreshold >= 0 && c.FailureThreshold <= 1):
		return fmt.Errorf("routing: litellm failure threshold must lie in [0, 1]")
	case c.MinRequests < 1 || c.SingleDeploymentThreshold < 1:
		return fmt.Errorf("routing: litellm min_requests and the single-deployment threshold must be >= 1")
	case c.Groups != GroupsEach && c.Groups != GroupsOne:
		return fmt.Errorf("routing: litellm groups must be each or one, got %q", c.Groups)
	case c.InitialRetryDelay < 0 || c.MaxRetryDelay < 0 || c.MaxRetryAfter < 0:
		return fmt.Errorf("routing: litellm retry delays must be >= 0")
	}
	return nil
}

// LiteLLM reproduces LiteLLM's Router with fallbacks, quirks included:
//
//   - A request goes to its model group (the first candidate, or with
//     GroupsOne the first candidate not cooling down); it is retried in the
//     group NumRetries times, then moves to the next group in placement
//     order, up to MaxFallbacks fallbacks. Not retried in the group (moving
//     on at once): 404s, auth errors in a one-deployment group, and 429s
//     when the group has no healthy deployment left. A group with no
//     deployment out of cooldown is skipped.
//   - A retry in the group goes at once if another healthy deployment is
//     left in it, else after the Retry-After (if in (0, 60 s]) or the
//     jittered exponential backoff (Retry).
//   - Cooldowns (v2, no AllowedFails): only 429, 401, 404, 408 and 5xx
//     count, connection errors never; a 429 cools at once unless the
//     deployment is alone in its group; a failure rate over 50 % with at
//     least 5 requests this minute cools, again not for a deployment alone
//     in its group; 100 % failures with at least 1000 requests this minute
//     cools; so do non-retryable statuses (401, 404). With AllowedFails the
//     v1 count applies to every deployment.
//   - Recovery is by time only: full traffic after CooldownTime, no probe.
//
// Hence the single-deployment quirk (#40405): with GroupsEach and no
// AllowedFails, a primary in an outage is never cooled, and every request
// pays NumRetries+1 failed attempts (and their backoff) before its fallback.
// LiteLLM needs Request.Memo carried by the engines to know its group; an
// engine that does not carry it makes each retry assume all its attempts so
// far were in the group of Prev.
type LiteLLM struct {
	cfg    LiteLLMConfig
	n      int
	groups int // number of groups that may be tried
	dom    *domains
	cnt    []minuteCounts
}

// NewLiteLLM builds the preset over cands (the fallback order).
func NewLiteLLM(cfg LiteLLMConfig, cands []Candidate) (*LiteLLM, error) {
	dom, err := prepare(cfg.check, cfg.Domain, cands)
	if err != nil {
		return nil, err
	}
	l := &LiteLLM{cfg: cfg, n: len(cands), dom: dom, cnt: make([]minuteCounts, len(cands)), groups: 1}
	if cfg.Groups == GroupsEach {
		l.groups = min(len(cands), 1+cfg.MaxFallbacks)
	}
	return l, nil
}

// groupSize is the number of deployments in a model group.
func (l *LiteLLM) groupSize() int {
	if l.cfg.Groups == GroupsOne {
		return l.n
	}
	return 1
}

// selectIn returns group g's deployment for an attempt at now, or -1 if
// every deployment in it is cooling down.
func (l *LiteLLM) selectIn(now int64, g int) int {
	if l.cfg.Groups == GroupsEach {
		if l.dom.out(now, g) {
			return -1
		}
		return g
	}
	for i := range l.n {
		if !l.dom.out(now, i) {
			return i
		}
	}
	return -1
}

// healthyIn counts group g's deployments out of cooldown.
func (l *LiteLLM) healthyIn(now int64, g int) int {
	if l.cfg.Groups == GroupsEach {
		if l.dom.out(now, g) {
			return 0
		}
		return 1
	}
	return l.n - l.dom.count(now)
}

// Memo layout: bit 63 marks it set, bits 32-62 the group, 0-31 the attempts
// made in that group.
const memoSet = 1 << 63

func packMemo(g, k int) uint64 { return memoSet | uint64(g)<<32 | uint64(uint32(k)) }

// plan decides attempt number attempt of a request whose previous attempt
// (if any) ended as last, with memo from that attempt: its group g, the
// attempts k made in g counting this one, and the deployment (-1: none).
func (l *LiteLLM) plan(now int64, attempt, prev int, memo uint64, last *Observation) (g, k, dep int) {
	if attempt > 1 {
		g, k = l.decode(attempt-1, prev, memo)
		if k < 1+l.cfg.NumRetries && l.retriedInGroup(now, g, last) {
			if dep = l.selectIn(now, g); dep >= 0 {
				return g, k + 1, dep
			}
		}
		g++
	}
	for ; g < l.groups; g++ {
		if dep = l.selectIn(now, g); dep >= 0 {
			return g, 1, dep
		}
	}
	return g, 0, -1
}

// decode returns the group of attempt number attempt, which used candidate
// prev and left memo, and the attempts made in that group up to it.
func (l *LiteLLM) decode(attempt, prev int, memo uint64) (g, k int) {
	switch {
	case memo&memoSet != 0:
		return int(memo >> 32 & 0x7fffffff), int(uint32(memo))
	case l.cfg.Groups == GroupsEach && prev >= 0:
		return prev, attempt // engine without Memo: see the type's doc
	}
	return 0, attempt
}

// retriedInGroup applies LiteLLM's "not retried" rules to the attempt that
// ended as last in group g.
func (l *LiteLLM) retriedInGroup(now int64, g int, last *Observation) bool {
	switch classify(last) {
	case outNotFound:
		return false
	case outAuth:
		return l.groupSize() > 1
	case outThrottled:
		return l.healthyIn(now, g) > 0 || g+1 >= l.groups
	}
	return true
}

// Pick implements Policy.
func (l *LiteLLM) Pick(now int64, r *Request) int {
	g, k, dep := l.plan(now, r.Attempt, r.Prev, r.Memo, &r.Last)
	if dep >= 0 {
		r.Memo = packMemo(g, k)
	}
	return dep
}

// Retry implements Retrier: at once when the next attempt changes group or
// another healthy deployment is left in the group, else LiteLLM's backoff.
func (l *LiteLLM) Retry(now int64, r *Request, o *Observation) (int64, bool) {
	g0, _ := l.decode(r.Attempt, o.Dep, r.Memo)
	g, k, dep := l.plan(now, r.Attempt+1, o.Dep, r.Memo, o)
	if dep < 0 {
		return 0, false
	}
	if g != g0 || l.healthyIn(now, g) > 1 {
		return 0, true
	}
	if ra := o.RetryAfter; ra > 0 && ra <= l.cfg.MaxRetryAfter {
		return ra, true
	}
	n := max(k-2, 0) // retries already made in the group before this one
	d := l.cfg.InitialRetryDelay
	for range n {
		if d >= l.cfg.MaxRetryDelay {
			break
		}
		d *= 2
	}
	d = min(d, l.cfg.MaxRetryDelay)
	return int64(float64(d) * (1 - 0.25*second(r.U))), true
}

// Observe implements Policy.
func (l *LiteLLM) Observe(now int64, o *Observation) {
	i := o.Dep
	if i < 0 || i >= l.n {
		return
	}
	cls := classify(o)
	if cls == outCancelled {
		return
	}
	m := &l.cnt[i]
	m.roll(now)
	if cls == outOK {
		m.ok++
		return
	}
	m.fail++
	// _is_cooldown_required: only these statuses, never connection errors.
	st := httpStatus(o)
	if cls == outConnection || !(st == 429 || st == 401 || st == 404 || st == 408 || st >= 500) {
		return
	}
	if l.shouldCool(now, m, st) {
		l.dom.eject(i, now+l.cfg.CooldownTime)
	}
}

// shouldCool is _should_cooldown_deployment for a failure with status st.
func (l *LiteLLM) shouldCool(now int64, m *minuteCounts, st int) bool {
	if l.cfg.AllowedFails > 0 {
		// The fail counter's TTL is refreshed by every failure it counts.
		if m.lastFail > 0 && now-m.lastFail >= l.cfg.CooldownTime {
			m.recentFails = 0
		}
		if m.recentFails+1 > l.cfg.AllowedFails {
			m.recentFails = 0
			return true
		}
		m.recentFails++
		m.lastFail = now
		return false
	}
	single := l.groupSize() == 1
	total := m.ok + m.fail
	pct := float64(m.fail) / float64(total)
	switch {
	case st == 429 && !single:
		return true
	case pct == 1 && total >= l.cfg.SingleDeploymentThreshold:
		return true
	case pct > l.cfg.FailureThreshold && total >= l.cfg.MinRequests && !single:
		return true
	}
	// litellm._should_retry: 408, 409, 429 and 5xx are retryable; anything
	// else that got this far (401, 404) is cooled.
	return !(st == 408 || st == 409 || st == 429 || st >= 500)
}

// Cooling reports whether candidate i is cooling down at now.
func (l *LiteLLM) Cooling(now int64, i int) bool { return l.dom.out(now, i) }
