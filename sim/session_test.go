package sim

import (
	"context"
	"math"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/mcbench/mcbench/results"
	"github.com/mcbench/mcbench/scenarios"
)

// sessionWorld is a small federated world with constant latencies, so a
// session's latency and bytes can be computed by hand: users in eu-west
// (AWS), agents in us-east-1 (AWS), models in eastus2 (Azure), an optional
// state store in us-west-2 (AWS).
const sessionWorld = `
name: sessions
seed: 7
replications: 2
run: {requests: 200}
providers:
  - {name: aws, kind: bedrock, regions: [us-east-1, us-west-2, eu-west-1]}
  - {name: azure, kind: azure, regions: [eastus2]}
links:
  - {from: eu-west-1, to: us-east-1, latency: 40ms}
  - {from: us-east-1, to: eastus2, latency: 5ms}
  - {from: us-east-1, to: us-west-2, latency: 30ms}
  - {from: us-west-2, to: eastus2, latency: 35ms}
deployments:
  - name: gpt
    provider: azure
    region: eastus2
    capacity: {concurrency: 1000}
    latency: {ttft: 300ms, per_input_token: 0s, tpot: 10ms}
  - {name: agents-east, provider: aws, region: us-east-1, layer: orchestration, capacity: {concurrency: 1000}, latency: {ttft: 20ms}}
  - {name: agents-west, provider: aws, region: us-west-2, layer: orchestration, capacity: {concurrency: 1000}, latency: {ttft: 20ms}}
  - {name: store, provider: aws, region: us-west-2, layer: state, latency: {ttft: 2ms}}
workloads:
  - name: agent
    origin: eu-west-1
    arrival: {process: constant, rate: 1/s}
    input_tokens: 1000
    output_tokens: 101
    max_tokens: 500
    session: {steps: 3, think: 100ms, state_read: 10k, state_write: 5k, slo: 5s}
strategies:
  - name: colocated
    placement: {model: [gpt], orchestration: [agents-east]}
  - name: remote-state
    placement: {model: [gpt], orchestration: [agents-east, agents-west], state: [store]}
`

func parseSessions(t *testing.T, extra string) *scenarios.Scenario {
	t.Helper()
	s, err := scenarios.Parse("sessions.yaml", []byte(sessionWorld+extra))
	require.NoError(t, err)
	return s
}

// TestSessionLatencyAndBytes checks a session's latency, steps and bytes
// against the sum of its parts, for state next to the orchestrator and in
// another region.
func TestSessionLatencyAndBytes(t *testing.T) {
	s := parseSessions(t, "")
	sum, err := Run(context.Background(), s, Options{})
	require.NoError(t, err)
	const (
		hop   = 0.040                           // eu-west-1 ↔ us-east-1, each way
		call  = 0.005 + 0.3 + 101*0.010 + 0.005 // out, ttft, 101 tokens × tpot, back
		think = 0.100 + 0.020                   // think time plus orchestrator overhead
		steps = 3
	)
	// Co-located state costs no time; remote state is a 30 ms round trip
	// each way plus 2 ms at the store, for the read and for the write.
	remote := 2 * (2*0.030 + 0.002)
	want := map[string]float64{
		"colocated":    2*hop + steps*(think+call),
		"remote-state": 2*hop + steps*(think+call+remote),
	}
	modelBytes := float64(steps * (1000*results.PromptBytesPerToken + 101*results.StreamBytesPerToken))
	for _, r := range sum.Results {
		require.Len(t, r.Sessions, 1)
		ss := r.Sessions[0]
		assert.Equal(t, int64(400), ss.Sessions, r.Strategy)
		assert.Equal(t, ss.Sessions, ss.Completed, r.Strategy)
		assert.InDelta(t, want[r.Strategy], ss.LatencySeconds.Mean, 1e-6, r.Strategy)
		assert.InDelta(t, want[r.Strategy], ss.LatencySeconds.P99, want[r.Strategy]*1e-3, r.Strategy)
		assert.Equal(t, 3.0, ss.MeanSteps)
		assert.Equal(t, 0.0, ss.RetriesPerSession)
		assert.Equal(t, 1.0, float64(ss.SLOAttainment))
		// Every call crosses from AWS to Azure and back.
		assert.Equal(t, modelBytes, float64(ss.CrossCloudBytesPerSession), r.Strategy)
		assert.Equal(t, float64(steps*15000), float64(ss.StateBytesPerSession))
		// The model calls are requests too.
		assert.Equal(t, int64(3*400), r.Requests)
	}
	assert.Equal(t, 0.0, float64(sum.Results[0].Sessions[0].CrossRegionBytesPerSession), "co-located state stays in the region")
	assert.Equal(t, float64(steps*15000), float64(sum.Results[1].Sessions[0].CrossRegionBytesPerSession), "remote state crosses regions within AWS")
}

// sessionSink collects session and attempt records.
type sessionSink struct {
	mu       *sync.Mutex
	sessions *[]results.SessionRecord
	attempts *[]results.Outcome
}

func (s sessionSink) Write(o *results.Outcome) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if o.Kind == results.KindAttempt {
		*s.attempts = append(*s.attempts, *o)
	}
	return nil
}
func (s sessionSink) WriteSession(r *results.SessionRecord) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	*s.sessions = append(*s.sessions, *r)
	return nil
}
func (s sessionSink) Close() error { return nil }

// TestSessionRecords: every session gets a record, and its model calls'
// attempt records carry the cross-cloud bytes of their payloads.
func TestSessionRecords(t *testing.T) {
	s := parseSessions(t, "")
	s.Replications = 1
	var mu sync.Mutex
	var sess []results.SessionRecord
	var atts []results.Outcome
	sum, err := Run(context.Background(), s, Options{Strategies: []string{"colocated"}, Records: func(string, int) (RecordSink, error) {
		return sessionSink{&mu, &sess, &atts}, nil
	}})
	require.NoError(t, err)
	require.Len(t, sess, 200)
	var cross, recorded int64
	for _, r := range sess {
		require.Equal(t, results.StatusOK, r.Status)
		require.Equal(t, int32(3), r.Steps)
		require.Equal(t, "agents-east", r.Orchestrator)
		cross += r.CrossCloudBytes
	}
	for _, a := range atts {
		recorded += a.CrossCloudBytes
	}
	require.Len(t, atts, 600)
	assert.Equal(t, cross, recorded)
	require.NotNil(t, sum.Results[0].Sessions[0].CrossCloudBytes)
	assert.Equal(t, *sum.Results[0].Sessions[0].CrossCloudBytes, cross)
}

// TestSessionOrchestratorOutage: when the orchestrator's region goes down,
// sessions whose state lived with it are lost, while sessions with a
// separate state store move to the next orchestrator and finish.
func TestSessionOrchestratorOutage(t *testing.T) {
	s := parseSessions(t, "faults: [{kind: outage, target: agents-east, start: 60s, duration: 30s}]\n")
	sum, err := Run(context.Background(), s, Options{})
	require.NoError(t, err)
	col, rem := sum.Results[0].Sessions[0], sum.Results[1].Sessions[0]
	t.Logf("colocated: %d of %d failed; remote state: %d failed, %.3f failovers per session", col.Failed, col.Sessions, rem.Failed, rem.FailoversPerSession)
	// Sessions last about 4.4 s, so the outage catches a few in flight
	// (state lost), and every later arrival in the window finds no
	// orchestrator to start on.
	assert.Greater(t, col.Failed, int64(2*30), "colocated: arrivals in the window fail, and those in flight lose their state")
	assert.Equal(t, int64(0), rem.Failed, "remote state: every session completes")
	assert.Greater(t, float64(rem.FailoversPerSession), 0.0, "sessions in flight moved orchestrator")
	var moved int64
	for _, d := range sum.Results[1].Deployments {
		if d.Name == "agents-west" {
			moved = d.Attempts
		}
	}
	assert.Greater(t, moved, int64(2*25), "new sessions started on agents-west during the outage")
}

// TestSessionThrottledStart: an orchestration layer that admits one session
// start per second throttles a burst; sessions back off at least the
// retry-after and the ones that run out of attempts fail.
func TestSessionThrottledStart(t *testing.T) {
	s := parseSessions(t, "")
	s.Workloads[0].Arrival.Rate = 4
	s.Deployments[1].Capacity.Quota = scenarios.Quota{Requests: 1, RequestWindow: scenarios.Duration(1e9), OutputBurn: 1, TokenWindow: scenarios.Duration(60e9)}
	s.Strategies = s.Strategies[:1]
	s.Strategies[0].Routing.MaxAttempts = 3
	sum, err := Run(context.Background(), s, Options{})
	require.NoError(t, err)
	ss := sum.Results[0].Sessions[0]
	t.Logf("%d sessions: %d completed, %d failed", ss.Sessions, ss.Completed, ss.Failed)
	assert.Greater(t, ss.Failed, int64(0))
	assert.Greater(t, ss.Completed, int64(0))
	// At most one start per second gets through (plus the bucket's burst
	// of one), over 50 s of arrivals and at most two retry-afters of 1 s.
	assert.LessOrEqual(t, float64(ss.Completed), 2*(1+52.0))
	assert.GreaterOrEqual(t, float64(ss.Completed), 2*45.0, "the quota is used, not starved")
	d := sum.Results[0].Deployments[1]
	assert.Equal(t, "agents-east", d.Name)
	assert.Greater(t, d.Throttled, int64(0))
}

// TestLinkFault: a link fault slows exactly the links between its ends
// while it lasts.
func TestLinkFault(t *testing.T) {
	s := parseSessions(t, "faults: [{kind: link, target: aws, to: azure, start: 0s, duration: 1h, latency_factor: 3}]\n")
	s.Strategies = s.Strategies[:1]
	sum, err := Run(context.Background(), s, Options{})
	require.NoError(t, err)
	// Only the AWS↔Azure hop of each call (5 ms each way) triples.
	want := 2*0.040 + 3*(0.120+0.3+101*0.010+2*3*0.005)
	assert.InDelta(t, want, sum.Results[0].Sessions[0].LatencySeconds.Mean, 1e-6)
}

// TestCostAwareSeesPrices: with Options.Prices the cost-aware policy sends
// traffic to the cheaper deployment, and the summary prices the tokens;
// without prices it has nothing to tell the deployments apart by.
func TestCostAwareSeesPrices(t *testing.T) {
	s, err := scenarios.Parse("cost.yaml", []byte(`
name: cost
seed: 3
replications: 1
run: {requests: 2000}
providers:
  - {name: azure, kind: azure, regions: [eastus2]}
  - {name: aws, kind: bedrock, regions: [us-east-1]}
deployments:
  - {name: dear, provider: azure, region: eastus2, model: big, capacity: {concurrency: 100}, latency: {ttft: 200ms}}
  - {name: cheap, provider: aws, region: us-east-1, model: small, capacity: {concurrency: 100}, latency: {ttft: 200ms}}
workloads:
  - {name: chat, arrival: {process: poisson, rate: 20/s}, input_tokens: 1000, output_tokens: 100, max_tokens: 200}
strategies:
  - {name: cost, placement: {model: [dear, cheap]}, routing: {policy: cost-aware}}
`))
	require.NoError(t, err)
	prices := func(d *scenarios.Deployment) (float64, float64, bool) {
		if d.Model == "big" {
			return 2.5, 10, true
		}
		return 0.25, 1, true
	}
	priced, err := Run(context.Background(), s, Options{Prices: prices})
	require.NoError(t, err)
	r := priced.Results[0]
	assert.Equal(t, "cheap", r.Deployments[1].Name)
	assert.Greater(t, r.Deployments[1].Attempts, 9*r.Deployments[0].Attempts, "the cheap deployment takes the traffic")
	// 1000 input and 100 output tokens at $0.25 and $1 per million.
	assert.InDelta(t, 0.25*1000/1e6+1*100/1e6, float64(r.TokenCostPer1kRequests)/1000, 1e-9)

	unpriced, err := Run(context.Background(), s, Options{})
	require.NoError(t, err)
	assert.True(t, math.IsNaN(float64(unpriced.Results[0].TokenCostUSD)), "no prices, no cost")
}
