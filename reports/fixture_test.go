package reports

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/mcbench/mcbench/results"
	"github.com/mcbench/mcbench/scenarios"
)

// fixture is a handmade run directory: a scenario, records and a summary
// consistent with them, written the way `mcbench sim --out --records` does.
type fixture struct {
	sc      *scenarios.Scenario
	source  string
	records []results.Outcome
	// loadWarmup is a load run's --warmup in seconds; loadSchedule when its
	// last request was due (0: unknown, the run's duration is used).
	loadWarmup, loadSchedule float64
}

func demoScenario(t testing.TB) *scenarios.Scenario {
	t.Helper()
	sc, err := scenarios.Open("demo")
	require.NoError(t, err)
	return sc
}

// synthRecords generates a seeded request stream for every strategy of the
// scenario: n requests per replication, one per 10 ms; the first placed
// deployment answers unless it is in an outage window or an outage begins
// while it is in flight (then the request fails over to the next one), a few requests are throttled once and
// retried, and every 50th request of a cross-cloud placement carries
// cross-cloud bytes.
func synthRecords(sc *scenarios.Scenario, reps, n int, seed uint64) []results.Outcome {
	var out []results.Outcome
	dep := map[string]scenarios.Deployment{}
	for _, d := range sc.Deployments {
		dep[d.Name] = d
	}
	for _, st := range sc.Strategies {
		placed := st.Placement["model"]
		for rep := 0; rep < reps; rep++ {
			rng := rand.New(rand.NewPCG(seed, uint64(rep)))
			for i := 0; i < n; i++ {
				class := sc.Workloads[i%len(sc.Workloads)].Name
				at := int64(i) * int64(10*time.Millisecond)
				in, outTok := int32(500+rng.IntN(3000)), int32(50+rng.IntN(500))
				mk := func(kind results.Kind, attempt int, d string, sent int64, stat results.Status) results.Outcome {
					dd := dep[d]
					o := results.Outcome{Kind: kind, Replication: int32(rep), RequestID: uint64(i), Attempt: int32(attempt), Class: class,
						Strategy: st.Name, Provider: dd.Provider, Region: dd.Region, Deployment: d, Intended: sent, Sent: sent,
						InputTokens: in, Status: stat}
					if stat == results.StatusOK {
						o.FirstByte = sent + int64(300*time.Millisecond) + int64(rng.IntN(400))*int64(time.Millisecond)
						o.FirstToken = o.FirstByte
						o.Done = o.FirstToken + int64(outTok)*int64(12*time.Millisecond)
						o.OutputTokens = outTok
						if cut, ok := outageStarts(sc, dd, sent, o.Done); ok {
							// In flight when an outage began: cut then, as the simulator does.
							o.Status, o.FirstByte, o.FirstToken, o.OutputTokens, o.Done = results.StatusFailed, 0, 0, 0, cut
						}
					} else {
						o.Done = sent + int64(50*time.Millisecond)
					}
					return o
				}
				var atts []results.Outcome
				first := placed[0]
				if len(placed) > 1 && rng.IntN(5) < 2 {
					first = placed[1]
				}
				sent := at
				status := results.StatusOK
				switch {
				case inOutage(sc, dep[first], at):
					status = results.StatusFailed
				case rng.IntN(40) == 0:
					status = results.StatusThrottled
				}
				a1 := mk(results.KindAttempt, 1, first, sent, status)
				atts = append(atts, a1)
				final := a1
				if a1.Status != results.StatusOK {
					second := placed[len(placed)-1]
					if second == first {
						second = placed[0]
					}
					s2 := results.StatusOK
					if inOutage(sc, dep[second], a1.Done) {
						s2 = results.StatusFailed
					}
					a2 := mk(results.KindAttempt, 2, second, a1.Done, s2)
					atts = append(atts, a2)
					final = a2
				}
				if dep[final.Deployment].Provider != "azure" && final.Status == results.StatusOK && i%50 == 0 {
					atts[len(atts)-1].CrossCloudBytes = 2_000_000
				}
				req := atts[len(atts)-1]
				req.Kind = results.KindRequest
				req.Attempt = int32(len(atts))
				req.Intended, req.Sent = at, at
				out = append(out, atts...)
				out = append(out, req)
			}
		}
	}
	return out
}

// outageStarts returns the start of an outage of d that begins while an
// attempt sent at sent is in flight (until done).
func outageStarts(sc *scenarios.Scenario, d scenarios.Deployment, sent, done int64) (int64, bool) {
	for _, f := range sc.Faults {
		if f.Kind == scenarios.FaultOutage && (f.Target == d.Name || f.Target == d.Region || f.Target == d.Provider) &&
			int64(f.Start) > sent && int64(f.Start) <= done {
			return int64(f.Start), true
		}
	}
	return 0, false
}

func inOutage(sc *scenarios.Scenario, d scenarios.Deployment, t int64) bool {
	for _, f := range sc.Faults {
		if f.Kind == scenarios.FaultOutage && (f.Target == d.Name || f.Target == d.Region || f.Target == d.Provider) &&
			t >= int64(f.Start) && t < int64(f.Start+f.Duration) {
			return true
		}
	}
	return false
}

// write writes the run directory and returns its path.
func (f *fixture) write(t testing.TB) string {
	t.Helper()
	dir := t.TempDir()
	if f.source == "" {
		f.source = "sim"
	}
	csvf, err := os.Create(filepath.Join(dir, results.OutcomesFile))
	require.NoError(t, err)
	w, err := results.NewOutcomeWriter(csvf, true)
	require.NoError(t, err)
	for i := range f.records {
		require.NoError(t, w.Write(&f.records[i]))
	}
	require.NoError(t, w.Flush())
	require.NoError(t, csvf.Close())

	warm := newWarmRule(f.sc, f.loadWarmup, f.source == "load", false)
	sum := results.Summary{Scenario: f.sc.Name, ScenarioSHA256: results.ScenarioHash(f.sc), Seed: f.sc.Seed, Version: "test", Source: f.source}
	byStrat := map[string]*results.Result{}
	reps := map[string]map[int32]bool{}
	for _, st := range f.sc.Strategies {
		sum.Results = append(sum.Results, results.Result{Strategy: st.Name})
	}
	for i := range sum.Results {
		byStrat[sum.Results[i].Strategy] = &sum.Results[i]
		reps[sum.Results[i].Strategy] = map[int32]bool{}
	}
	for _, o := range f.records {
		r := byStrat[o.Strategy]
		if o.Kind != results.KindRequest || r == nil || !warm.measured(o.RequestID, o.Intended) {
			continue
		}
		reps[o.Strategy][o.Replication] = true
		r.Requests++
		r.Attempts += int64(o.Attempt)
		switch o.Status {
		case results.StatusOK:
			r.Completed++
		case results.StatusFailed:
			r.Failed++
		case results.StatusTimedOut:
			r.TimedOut++
		default:
			r.Rejected++
		}
	}
	for i := range sum.Results {
		sum.Results[i].Replications = len(reps[sum.Results[i].Strategy])
	}
	if f.source == "load" {
		sum.Load = &results.Load{OutputTokens: 1, Pacer: "constant", Rate: 20, DurationSeconds: 30, WarmupSeconds: f.loadWarmup,
			ScheduleSeconds: f.loadSchedule}
		for _, o := range f.records {
			if o.Kind == results.KindRequest {
				sum.Load.Scheduled++
				sum.Load.Sent++
			}
		}
	}
	require.NoError(t, results.WriteSummary(dir, &sum))
	require.NoError(t, results.WriteRunInfo(dir, &results.RunInfo{Command: "mcbench sim test --out " + dir + " --records", Version: "test", Scenario: f.sc, Source: "test"}))
	return dir
}

// smallDemo is the demo scenario shortened to a one-minute run with a
// 10-second outage of East US 2 and no warm-up.
func smallDemo(t testing.TB) *scenarios.Scenario {
	sc := demoScenario(t)
	sc.Run.Warmup = scenarios.Warmup{}
	sc.Run.Horizon = scenarios.Duration(time.Minute)
	sc.Replications = 3
	sc.Faults = []scenarios.Fault{{Kind: scenarios.FaultOutage, Target: "eastus2", Start: scenarios.Duration(20 * time.Second), Duration: scenarios.Duration(10 * time.Second)}}
	return sc
}

func analyzeFixture(t testing.TB, f *fixture, opt Options) *Analysis {
	t.Helper()
	run, err := results.OpenRun(f.write(t))
	require.NoError(t, err)
	an, err := Analyze(run, opt)
	require.NoError(t, err)
	return an
}
