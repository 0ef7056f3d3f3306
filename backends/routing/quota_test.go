package routing

import (
	"container/heap"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcbench/mcbench/backends/behavior"
	"github.com/mcbench/mcbench/results"
	"github.com/mcbench/mcbench/scenarios"
)

// quotaCand is a candidate with a quota, windows as the providers enforce.
func quotaCand(name, kind string, tpm, rpm, burn float64) Candidate {
	c := cand(name, kind, name+"-region")
	c.TokensPerMinute, c.RequestsPerMinute, c.OutputBurn = tpm, rpm, burn
	c.TokenWindow, c.RequestWindow = 60*sec, 10*sec
	return c
}

// truth is the provider's accounting of c: the behaviour model the
// simulator and the fakes enforce.
func truth(c Candidate) behavior.Quota {
	return behavior.NewQuota(&scenarios.Quota{Tokens: scenarios.Rate(c.TokensPerMinute / 60), Requests: scenarios.Rate(c.RequestsPerMinute / 60),
		TokenWindow: scenarios.Duration(c.TokenWindow), RequestWindow: scenarios.Duration(c.RequestWindow), OutputBurn: c.OutputBurn}, c.ProviderKind)
}

func TestQuotaAzureReservesPromptPlusMaxTokens(t *testing.T) {
	// 60k TPM: the bucket holds 60k tokens; each request reserves
	// 1000 + 4000. After ten the remaining 10k would drop to 5k (8 % < 10 %).
	cs := []Candidate{quotaCand("aoai", scenarios.KindAzure, 60000, 0, 1), quotaCand("bedrock", scenarios.KindBedrock, 0, 0, 1)}
	q, err := NewQuotaAware(DefaultQuotaConfig(), cs)
	require.NoError(t, err)
	r := &Request{Attempt: 1, Prev: -1, InputTokens: 1000, MaxTokens: 4000}
	for i := range 10 {
		require.Equal(t, 0, q.Pick(0, r), "request %d", i)
	}
	assert.InDelta(t, 10000.0/60000-5000.0/60000, q.Headroom(0, 0, 1000, 4000), 1e-9)
	assert.Equal(t, 1, q.Pick(0, r), "projected headroom below 10 %: route away")
	// Azure keeps the reservation even if the answer was short.
	o := okObs(0, 0, 100*ms)
	o.InputTokens, o.MaxTokens, o.OutputTokens = 1000, 4000, 10
	q.Observe(0, &o)
	assert.Equal(t, 1, q.Pick(0, r))
	// The bucket refills at 1000 tokens/s: 5 s later there is room again.
	assert.Equal(t, 0, q.Pick(5*sec, r))
}

func TestQuotaAzureRequestsPerTenSeconds(t *testing.T) {
	// 60 RPM is enforced as 10 per 10 s: the 10th request already leaves
	// no headroom (h = 10 % of 10 is one request).
	cs := []Candidate{quotaCand("aoai", scenarios.KindAzure, 0, 60, 1), quotaCand("other", scenarios.KindAzure, 0, 0, 1)}
	q, err := NewQuotaAware(DefaultQuotaConfig(), cs)
	require.NoError(t, err)
	var got []int
	for range 11 {
		got = append(got, q.Pick(0, first(0.5)))
	}
	assert.Equal(t, []int{0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1}, got)
}

func TestQuotaBedrockOutputBurnSettles(t *testing.T) {
	// 60k TPM, output burns 5: a request of 1000 in, max 1000 reserves 6000.
	cs := []Candidate{quotaCand("claude", scenarios.KindBedrock, 60000, 0, 5), quotaCand("other", scenarios.KindAzure, 0, 0, 1)}
	q, err := NewQuotaAware(DefaultQuotaConfig(), cs)
	require.NoError(t, err)
	r := &Request{Attempt: 1, Prev: -1, InputTokens: 1000, MaxTokens: 1000}
	for range 9 {
		require.Equal(t, 0, q.Pick(0, r), "down to exactly 10 %% headroom is still in")
	}
	assert.InDelta(t, 6000.0/60000, q.Headroom(0, 0, 0, 0), 1e-9)
	assert.Equal(t, 1, q.Pick(0, r), "another 6k would leave nothing")
	// Settling to 1000 + 200 × 5 = 2000 refunds 4000 per request.
	for range 9 {
		o := okObs(0, 0, 100*ms)
		o.InputTokens, o.MaxTokens, o.OutputTokens = 1000, 1000, 200
		q.Observe(0, &o)
	}
	assert.InDelta(t, 42000.0/60000, q.Headroom(0, 0, 0, 0), 1e-9)
	// A failed call settles to its prompt.
	q.Pick(0, r)
	o := failObs(0, results.StatusTimedOut, "timeout", 0)
	o.InputTokens, o.MaxTokens = 1000, 1000
	q.Observe(0, &o)
	assert.InDelta(t, 41000.0/60000, q.Headroom(0, 0, 0, 0), 1e-9)
}

func TestQuotaHeadersAndRetryAfter(t *testing.T) {
	cs := []Candidate{quotaCand("a", scenarios.KindAzure, 60000, 600, 1), quotaCand("b", scenarios.KindAzure, 60000, 600, 1)}
	q, err := NewQuotaAware(DefaultQuotaConfig(), cs)
	require.NoError(t, err)
	// Other clients share the deployment: the header says 3000 tokens left.
	o := okObs(0, 0, 100*ms)
	o.RemainingTokens, o.RemainingRequests = 3000, 50
	q.Observe(0, &o)
	assert.Equal(t, 1, q.Pick(0, &Request{Attempt: 1, Prev: -1, InputTokens: 1000, MaxTokens: 1000}), "the header beats the shadow")
	// A 429 with retry-after keeps the policy away for that long, even
	// once the bucket would have refilled.
	q, _ = NewQuotaAware(DefaultQuotaConfig(), cs)
	o = throttled(0, 0, 30*sec)
	q.Observe(0, &o)
	assert.Equal(t, 1, q.Pick(29*sec, first(0.5)))
	assert.Equal(t, 0, q.Pick(30*sec, first(0.5)))
	// Everyone held: the one free soonest.
	o = throttled(0, 40*sec, 10*sec)
	q.Observe(40*sec, &o)
	o = throttled(1, 40*sec, 5*sec)
	q.Observe(40*sec, &o)
	assert.Equal(t, 1, q.Pick(41*sec, first(0.5)))
}

// completion is an admitted attempt that ends at done.
type completion struct {
	done           int64
	dep            int
	in, max, out   int32
	reserved       float64
	throttledClass string
}

type completions []completion

func (c completions) Len() int           { return len(c) }
func (c completions) Less(i, j int) bool { return c[i].done < c[j].done }
func (c completions) Swap(i, j int)      { c[i], c[j] = c[j], c[i] }
func (c *completions) Push(x any)        { *c = append(*c, x.(completion)) }
func (c *completions) Pop() any {
	old := *c
	x := old[len(old)-1]
	*c = old[:len(old)-1]
	return x
}

// The defining property: the policy never sends a request the provider's
// accounting would refuse while another candidate would admit it. The
// provider here is the behaviour model itself; the policy sees it only
// through Observe, with (headers) or without rate-limit headers. Refusals
// carry no Retry-After here: honouring one is a separate, deliberate
// choice (TestQuotaHeadersAndRetryAfter).
func TestQuotaNeverRoutesIntoARefusalWhileAnotherAdmits(t *testing.T) {
	cs := []Candidate{
		quotaCand("aoai-ptu-ish", scenarios.KindAzure, 120000, 120, 1),
		quotaCand("claude", scenarios.KindBedrock, 200000, 200, 5),
		quotaCand("aoai-west", scenarios.KindAzure, 90000, 300, 1),
	}
	for _, headers := range []bool{true, false} {
		q, err := NewQuotaAware(DefaultQuotaConfig(), cs)
		require.NoError(t, err)
		prov := make([]behavior.Quota, len(cs))
		for i, c := range cs {
			prov[i] = truth(c)
		}
		rng := rand.New(rand.NewPCG(7, 11))
		var pending completions
		now, refusals, sent := int64(0), 0, 0
		observe := func(c completion) {
			o := Observation{Dep: c.dep, Sent: c.done, Done: c.done, InputTokens: c.in, MaxTokens: c.max, OutputTokens: c.out,
				RemainingTokens: -1, RemainingRequests: -1}
			if c.throttledClass != "" {
				o.Status, o.ErrorClass = results.StatusThrottled, c.throttledClass
			} else {
				prov[c.dep].Settle(c.done, c.reserved, c.in, c.out)
				o.FirstToken = c.done
			}
			if headers {
				o.RemainingTokens, o.RemainingRequests = prov[c.dep].Remaining(c.done)
			}
			q.Observe(c.done, &o)
		}
		for range 20000 {
			now += int64(rng.ExpFloat64() * float64(300*ms)) // ~3.3 req/s, above the total quota
			for len(pending) > 0 && pending[0].done <= now {
				observe(heap.Pop(&pending).(completion))
			}
			in, mx := int32(200+rng.IntN(3000)), int32(256+rng.IntN(2048))
			r := &Request{Attempt: 1, Prev: -1, InputTokens: in, MaxTokens: mx}
			dep := q.Pick(now, r)
			require.GreaterOrEqual(t, dep, 0)
			admits := func(i int) bool {
				dry := prov[i]
				_, why, _ := dry.Admit(now, in, mx)
				return why == behavior.Admitted
			}
			reserved, why, _ := prov[dep].Admit(now, in, mx)
			sent++
			c := completion{done: now + int64(500+rng.IntN(4000))*ms, dep: dep, in: in, max: mx, out: int32(1 + rng.IntN(int(mx)-1)), reserved: reserved}
			if why != behavior.Admitted {
				refusals++
				for i := range cs {
					if i != dep {
						require.False(t, admits(i), "headers=%v: sent to %d, refused, while %d would admit", headers, dep, i)
					}
				}
				c.done, c.throttledClass = now, why.String()
				observe(c)
				continue
			}
			heap.Push(&pending, c)
		}
		// The load is above the total quota, so refusals happen, but only
		// when everyone is full.
		assert.Positive(t, refusals, "headers=%v", headers)
		assert.Less(t, refusals, sent/2)
	}
}
