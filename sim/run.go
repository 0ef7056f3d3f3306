// Package sim is mcbench's discrete-event simulator: an allocation-free event
// loop on a typed event queue (a timing wheel that sorts only the window due next) with an int64-nanosecond clock, replications run
// in parallel across cores, and confidence intervals across replications.
// It reads the request stream from package scenarios and uses the deployment
// behaviour and routing policies of package backends, the same ones the load
// generator uses.
package sim

import (
	"context"
	"errors"
	"fmt"
	"math"
	"runtime"
	"slices"
	"sync"
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"

	"github.com/mcbench/mcbench/results"
	"github.com/mcbench/mcbench/scenarios"
)

// repResult is what one replication of one strategy leaves behind.
type repResult struct {
	stats                results.ReplicationStats
	hWait, hTTFT, hE2E   *hdrhistogram.Histogram
	sumWait, sumTTFT     float64
	sumE2E               float64
	deps                 []depState
	faults               []results.FaultTally
	sessions             []sessAcc
	events               int64
	interrupted, started bool
	unstable             *UnstableError
	err                  error
}

// Run simulates every selected strategy of s for s.Replications
// replications. Replications of all strategies share a worker pool; strategy
// k's replication r sees the same request stream as every other strategy's
// replication r (common random numbers). If ctx is cancelled, Run returns
// what was measured so far with results.Summary.Interrupted set. If a
// replication grows past Options.MaxInFlight, it stops there and Run returns
// the summary (Interrupted set) together with an error wrapping an
// *UnstableError per unstable strategy; other strategies run to the end.
// Any other error comes with a nil summary.
func Run(ctx context.Context, s *scenarios.Scenario, opt Options) (*results.Summary, error) {
	strats, err := selectStrategies(s, opt.Strategies)
	if err != nil {
		return nil, err
	}
	models := make([]*model, len(strats))
	for i, st := range strats {
		if models[i], err = compile(s, st); err != nil {
			return nil, err
		}
		models[i].setPrices(opt.Prices)
	}
	reps := max(s.Replications, 1)
	runs := make([][]repResult, len(strats))
	// Each fault window is compared with the same requests in a run of the
	// same replication without faults (common random numbers make it the
	// same requests with the same draws): baselines[k] holds those runs.
	baselines := make([][]repResult, len(strats))
	var inert []*model
	for i := range runs {
		runs[i] = make([]repResult, reps)
		if len(models[i].faults) > 0 {
			baselines[i] = make([]repResult, reps)
			b := *models[i]
			b.inert = true
			inert = append(inert, &b)
		} else {
			inert = append(inert, nil)
		}
	}
	type job struct {
		strat, rep int
		base       bool
	}
	jobs := make(chan job)
	workers := opt.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	// A worker beyond the number of jobs would only wait; a huge Workers
	// must not start millions of goroutines.
	nJobs := 0
	for i := range runs {
		nJobs += reps
		if inert[i] != nil {
			nJobs += reps
		}
	}
	workers = min(workers, max(nJobs, 1))
	// mu guards runs and baselines while a checkpoint may read them: a
	// worker stores a replication's result only once it is finished, so a
	// checkpoint sees finished replications and zero values (not started).
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				if j.base {
					r := runReplication(ctx, inert[j.strat], j.rep, Options{MaxInFlight: opt.MaxInFlight})
					mu.Lock()
					baselines[j.strat][j.rep] = r
					mu.Unlock()
					continue
				}
				r := runReplication(ctx, models[j.strat], j.rep, opt)
				mu.Lock()
				runs[j.strat][j.rep] = r
				mu.Unlock()
			}
		}()
	}
	summarise := func(runs, baselines [][]repResult) (*results.Summary, error) {
		sum := &results.Summary{Scenario: s.Name, Seed: s.Seed, Source: "sim", ScenarioSHA256: results.ScenarioHash(s)}
		for si, st := range strats {
			res, interrupted, err := aggregate(models[si], st.Name, runs[si], baselines[si])
			if err != nil {
				return nil, err
			}
			sum.Interrupted = sum.Interrupted || interrupted
			res.Violations = scenarios.Violations(s, slices.IndexFunc(s.Strategies, func(x scenarios.Strategy) bool { return x.Name == st.Name }))
			sum.Results = append(sum.Results, res)
		}
		return sum, nil
	}
	checkpointDone := make(chan struct{})
	stopCheckpoints := make(chan struct{})
	go func() {
		defer close(checkpointDone)
		if opt.Checkpoint == nil {
			return
		}
		every := opt.CheckpointEvery
		if every <= 0 {
			every = DefaultCheckpointEvery
		}
		t := time.NewTicker(every)
		defer t.Stop()
		for {
			select {
			case <-stopCheckpoints:
				return
			case <-t.C:
			}
			mu.Lock()
			snap, snapBase := snapshot(runs), snapshot(baselines)
			mu.Unlock()
			if sum, err := summarise(snap, snapBase); err == nil {
				// A checkpoint covers the replications finished so
				// far: it is marked interrupted until the run's own
				// summary replaces it.
				sum.Interrupted = true
				opt.Checkpoint(sum)
			}
		}
	}()
feed:
	for si := range strats {
		for r := range reps {
			for _, base := range []bool{false, true} {
				if base && inert[si] == nil {
					continue
				}
				select {
				case jobs <- job{si, r, base}:
				case <-ctx.Done():
					break feed
				}
			}
		}
	}
	close(jobs)
	wg.Wait()
	close(stopCheckpoints)
	<-checkpointDone // no checkpoint lands after the final summary

	sum, err := summarise(runs, baselines)
	if err != nil {
		return nil, err
	}
	var unstable []error
	for si := range strats {
		for _, r := range runs[si] {
			if r.unstable != nil {
				unstable = append(unstable, r.unstable)
				break // one per strategy: the others say the same
			}
		}
	}
	if ctx.Err() != nil || len(unstable) > 0 {
		sum.Interrupted = true
	}
	return sum, errors.Join(unstable...)
}

// snapshot copies the replications' results (a shallow copy: a finished
// replication's histograms and tallies are never written again).
func snapshot(rs [][]repResult) [][]repResult {
	out := make([][]repResult, len(rs))
	for i := range rs {
		out[i] = slices.Clone(rs[i])
	}
	return out
}

func selectStrategies(s *scenarios.Scenario, names []string) ([]*scenarios.Strategy, error) {
	if len(names) == 0 {
		out := make([]*scenarios.Strategy, len(s.Strategies))
		for i := range s.Strategies {
			out[i] = &s.Strategies[i]
		}
		return out, nil
	}
	var out []*scenarios.Strategy
	for _, n := range names {
		i := slices.IndexFunc(s.Strategies, func(st scenarios.Strategy) bool { return st.Name == n })
		if i < 0 {
			have := make([]string, len(s.Strategies))
			for j := range s.Strategies {
				have[j] = s.Strategies[j].Name
			}
			return nil, fmt.Errorf("scenario %q has no strategy %q (it has: %v)", s.Name, n, have)
		}
		out = append(out, &s.Strategies[i])
	}
	return out, nil
}

func runReplication(ctx context.Context, m *model, rep int, opt Options) repResult {
	if ctx.Err() != nil {
		return repResult{interrupted: true}
	}
	stream, err := scenarios.NewStream(m.s, rep)
	if err != nil {
		return repResult{err: err}
	}
	defer stream.Close()
	e, err := newEngine(m, rep, stream)
	if err != nil {
		return repResult{err: err}
	}
	e.progress = opt.Progress
	if opt.MaxInFlight > 0 {
		e.maxInFlight = int64(opt.MaxInFlight)
	}
	if opt.Records != nil {
		if e.sink, err = opt.Records(m.strategy.Name, rep); err != nil {
			return repResult{err: err}
		}
	}
	e.run(ctx)
	if e.sink != nil {
		if cerr := e.sink.Close(); e.sinkErr == nil {
			e.sinkErr = cerr
		}
	}
	if err := stream.Err(); err != nil {
		return repResult{err: err}
	}
	if e.sinkErr != nil {
		return repResult{err: fmt.Errorf("writing records: %w", e.sinkErr)}
	}
	return e.result()
}

// result turns the engine's counters into a replication's statistics.
func (e *engine) result() repResult {
	st := e.st
	if e.firstMeas >= 0 && e.lastArr > e.firstMeas {
		st.MeasuredSeconds = float64(e.lastArr-e.firstMeas) / 1e9
		st.Throughput = float64(st.Completed) / st.MeasuredSeconds
	}
	if st.Requests > 0 {
		st.PWait = float64(st.Waited) / float64(st.Requests)
	}
	if st.Completed > 0 {
		n := float64(st.Completed) * 1e9
		st.MeanWait, st.MeanTTFT, st.MeanE2E = e.sumWait/n, e.sumTTFT/n, e.sumE2E/n
		st.P50Wait, st.P99Wait = quantile(e.hWait, 50), quantile(e.hWait, 99)
		st.P50TTFT, st.P99TTFT = quantile(e.hTTFT, 50), quantile(e.hTTFT, 99)
		st.P50E2E, st.P99E2E = quantile(e.hE2E, 50), quantile(e.hE2E, 99)
	}
	st.Arrivals = e.arrivals
	if e.now > 0 {
		st.LittleL = e.area / float64(e.now)
		st.LittleLambdaW = e.sumSojourn / float64(e.now)
	}
	for i := range e.deps {
		e.deps[i].touch(e.now)
	}
	return repResult{
		stats: st, hWait: e.hWait, hTTFT: e.hTTFT, hE2E: e.hE2E,
		sumWait: e.sumWait, sumTTFT: e.sumTTFT, sumE2E: e.sumE2E,
		deps: e.deps, events: e.eventCount, interrupted: e.cancelled || e.unstable != nil, started: true,
		faults: e.faultAcc, sessions: e.sessAcc, unstable: e.unstable,
	}
}

// quantile returns the q-th percentile of a microsecond histogram in seconds.
func quantile(h *hdrhistogram.Histogram, q float64) float64 {
	return float64(h.ValueAtQuantile(q)) / 1e6
}

func aggregate(m *model, name string, reps, base []repResult) (results.Result, bool, error) {
	res := results.Result{Strategy: name}
	var errs []error
	interrupted := false
	hWait, hTTFT, hE2E := newHist(), newHist(), newHist()
	var sumWait, sumTTFT, sumE2E float64
	var thr, pw, mw, mt, me, pw99, pt99, pe99, ll, lw, cost, costOK []float64
	util := make([]float64, len(m.deps))
	res.Deployments = make([]results.DeploymentResult, len(m.deps))
	for i := range m.deps {
		res.Deployments[i].Name = m.deps[i].name
	}
	for _, r := range reps {
		if r.err != nil {
			errs = append(errs, r.err)
			continue
		}
		interrupted = interrupted || r.interrupted
		if !r.started {
			continue
		}
		st := r.stats
		res.Replications++
		res.PerReplication = append(res.PerReplication, st)
		res.Requests += st.Requests
		res.Completed += st.Completed
		res.Rejected += st.Rejected
		res.Failed += st.Failed
		res.TimedOut += st.TimedOut
		res.Attempts += st.Attempts
		hWait.Merge(r.hWait)
		hTTFT.Merge(r.hTTFT)
		hE2E.Merge(r.hE2E)
		sumWait, sumTTFT, sumE2E = sumWait+r.sumWait, sumTTFT+r.sumTTFT, sumE2E+r.sumE2E
		thr = append(thr, st.Throughput)
		cost = append(cost, st.CostUSD)
		if st.Completed > 0 {
			costOK = append(costOK, st.CostUSD/float64(st.Completed))
		}
		pw = append(pw, st.PWait)
		ll, lw = append(ll, st.LittleL), append(lw, st.LittleLambdaW)
		if st.Completed > 0 {
			mw, mt, me = append(mw, st.MeanWait), append(mt, st.MeanTTFT), append(me, st.MeanE2E)
			pw99, pt99, pe99 = append(pw99, st.P99Wait), append(pt99, st.P99TTFT), append(pe99, st.P99E2E)
		}
		for i := range r.deps {
			d := &r.deps[i]
			dr := &res.Deployments[i]
			dr.Attempts += d.attempts
			dr.Completed += d.completed
			dr.Throttled += d.throttled
			dr.Rejected += d.rejected
			dr.Failed += d.failed
			dr.TimedOut += d.timedOut
			if d.lastT > 0 && m.deps[i].concurrency > 0 {
				util[i] += d.busyArea / (float64(d.lastT) * float64(m.deps[i].concurrency))
			}
		}
	}
	if len(errs) > 0 {
		return res, interrupted, errors.Join(errs...)
	}
	if res.Replications == 0 {
		// Never started (an interrupted run): no figure at all, null in
		// summary.json, rather than NaNs no JSON can hold or zeros that
		// would read as measurements.
		res.Faults = faultResults(m, reps, base)
		res.Sessions = sessionResults(m, reps)
		res.MarkUnmeasured()
		return res, interrupted, nil
	}
	res.Faults = faultResults(m, reps, base)
	res.Sessions = sessionResults(m, reps)
	if res.Replications > 0 {
		for i := range util {
			res.Deployments[i].Utilization = results.Num(util[i] / float64(res.Replications))
		}
	}
	res.ThroughputRPS, res.ThroughputRPSCI95 = ci95(thr)
	res.TokenCostUSD, res.TokenCostUSDCI95, res.TokenCostPer1kRequests = results.Num(nan), results.CI{nan, nan}, results.Num(nan)
	res.TokenCostPerSuccessfulRequest, res.TokenCostPerSuccessfulRequestCI95 = results.Unknown, results.NoCI
	if m.priced && len(costOK) > 0 {
		c, ci := ci95(costOK)
		res.TokenCostPerSuccessfulRequest, res.TokenCostPerSuccessfulRequestCI95 = results.Num(c), ci
	}
	if m.priced {
		c, ci := ci95(cost)
		res.TokenCostUSD, res.TokenCostUSDCI95 = results.Num(c), ci
		if res.Requests > 0 {
			res.TokenCostPer1kRequests = results.Num(c * float64(res.Replications) / float64(res.Requests) * 1000)
		}
	}
	pwMean, pwCI := ci95(pw)
	res.PWait, res.PWaitCI95 = results.Num(pwMean), pwCI
	res.Little = &results.LittleCheck{}
	res.Little.L, _ = ci95(ll)
	res.Little.LambdaW, _ = ci95(lw)
	n := float64(res.Completed) * 1e9
	wait := latency(hWait, sumWait/n, mw, pw99)
	res.WaitSeconds = &wait
	res.TTFTSeconds = latency(hTTFT, sumTTFT/n, mt, pt99)
	res.E2ESeconds = latency(hE2E, sumE2E/n, me, pe99)
	return res, interrupted, nil
}

func latency(h *hdrhistogram.Histogram, mean float64, means, p99s []float64) results.Latency {
	l := results.Latency{}
	if h.TotalCount() == 0 {
		l.MeanCI95, l.P99CI95 = results.CI{nan, nan}, results.CI{nan, nan}
		return l
	}
	l.Mean = mean
	l.P50, l.P90, l.P99 = quantile(h, 50), quantile(h, 90), quantile(h, 99)
	l.Max = float64(h.Max()) / 1e6
	_, l.MeanCI95 = ci95(means)
	_, l.P99CI95 = ci95(p99s)
	return l
}

// faultResults summarises each fault window over the replications.
func faultResults(m *model, reps, base []repResult) []results.FaultResult {
	if len(m.faults) == 0 {
		return nil
	}
	out := make([]results.FaultResult, len(m.faults))
	tallies, baseTallies := make([]*results.FaultTally, len(reps)), make([]*results.FaultTally, len(reps))
	for i := range m.faults {
		for j := range reps {
			tallies[j], baseTallies[j] = nil, nil
			if reps[j].started && i < len(reps[j].faults) {
				tallies[j] = &reps[j].faults[i]
			}
			if j < len(base) && base[j].started && i < len(base[j].faults) {
				baseTallies[j] = &base[j].faults[i]
			}
		}
		out[i] = results.SummariseFault(&m.s.Faults[i], m.wins[i], tallies, baseTallies, m.priced)
	}
	return out
}

// nan marks a statistic that is undefined (null in summary.json).
var nan = math.NaN()

// ci95 returns the mean of per-replication values and its 95% interval.
func ci95(xs []float64) (float64, results.CI) {
	iv := results.CI95(xs)
	return iv.Mean, iv.CI()
}

// sessionResults summarises each session class over the replications.
func sessionResults(m *model, reps []repResult) []results.SessionResult {
	var out []results.SessionResult
	for ci := range m.classes {
		sm := m.classes[ci].session
		if sm == nil {
			continue
		}
		sr := results.SessionResult{Class: m.classes[ci].name}
		h := newHist()
		var sumLat float64
		var steps, calls, failovers, xRegion, xCloud, stateBytes, sloMet int64
		var means, p99s []float64
		for _, r := range reps {
			if !r.started || r.sessions == nil {
				continue
			}
			a := &r.sessions[ci]
			sr.Sessions += a.sessions
			sr.Completed += a.completed
			sr.Failed += a.failed
			steps, calls, failovers = steps+a.steps, calls+a.calls, failovers+a.failovers
			xRegion, xCloud, stateBytes = xRegion+a.xRegion, xCloud+a.xCloud, stateBytes+a.stateBytes
			sloMet += a.sloMet
			sumLat += a.sumLat
			h.Merge(a.hLat)
			if a.completed > 0 {
				means = append(means, a.sumLat/float64(a.completed)/1e9)
				p99s = append(p99s, quantile(a.hLat, 99))
			}
		}
		sr.LatencySeconds = latency(h, sumLat/float64(sr.Completed)/1e9, means, p99s)
		sr.SLOAttainment = results.Num(nan)
		sr.CrossCloudBytes = &xCloud
		if n := float64(sr.Sessions); n > 0 {
			sr.MeanSteps = float64(steps) / n
			sr.RetriesPerSession = float64(calls-steps) / n
			sr.FailoversPerSession = results.Num(float64(failovers) / n)
			sr.CrossRegionBytesPerSession = results.Num(float64(xRegion) / n)
			sr.CrossCloudBytesPerSession = results.Num(float64(xCloud) / n)
			sr.StateBytesPerSession = results.Num(float64(stateBytes) / n)
			if sm.slo > 0 {
				sr.SLOAttainment = results.Num(float64(sloMet) / n)
			}
		}
		out = append(out, sr)
	}
	return out
}
