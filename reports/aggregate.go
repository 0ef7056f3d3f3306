package reports

import (
	"math"
	"slices"

	"github.com/HdrHistogram/hdrhistogram-go"
	"github.com/mcbench/mcbench/results"
)

const nStatus = int(results.StatusClientError) + 1

// aggregator folds outcome records, one at a time, into per-strategy,
// per-replication, per-deployment and per-time-bucket counters. It keeps
// no record: an attempt waits only until its request's record arrives
// (both writers emit a request's attempts just before the request), so
// what it holds at once is bounded by the requests in flight.
type aggregator struct {
	w       *world
	warm    warmRule
	opt     *Options
	strats  []*stratAgg
	pending map[pendKey][]pendingAttempt
	free    [][]pendingAttempt
	width   int64 // initial time-bucket width (ns)
	// wins are w.faults' windows, and exp the scratch exposure of the
	// request being folded (results.Exposure).
	wins []results.FaultWindow
	exp  results.Exposure

	rows, attemptRows, requestRows int64
	warmupRequests, orphanAttempts int64
	recordedCost                   float64
}

type pendKey struct {
	strat, rep int32
	id         uint64
}

type pendingAttempt struct {
	dep, class, attempt      int32
	status                   results.Status
	intended, sent, firstTok int64
	done                     int64
	in, out                  int32
	cross                    int64
}

// stratAgg is one strategy's running totals.
type stratAgg struct {
	idx     int
	name    string
	reps    []*repAgg // sorted by replication id once finished
	repIdx  map[int32]*repAgg
	ttft    *hdrhistogram.Histogram
	e2e     *hdrhistogram.Histogram
	series  *series
	classes []classAgg
	faults  []faultAgg
	outside faultAgg // requests exposed to no fault window
	// ftally holds, per replication, each fault window's results tally
	// of every request exposed to it (warm-up included, as the engines
	// book them): time to fail over and to recover come from it.
	ftally   map[int32][]results.FaultTally
	outFirst []int64 // per fault: outside-window requests first sent to a deployment it hits
	primary  []int64 // per provider: requests whose first attempt went there
}

type classAgg struct{ requests, ok, good int64 }

type faultAgg struct{ requests, breach, exposed int64 }

// repAgg is one replication of one strategy.
type repAgg struct {
	rep                          int32
	requests, ok, good, attempts int64
	retried, failedOver          int64
	status                       [nStatus]int64
	sumTTFT, sumE2E              float64 // ns, completed requests
	ttft, e2e                    *hdrhistogram.Histogram
	first, last                  int64 // measured window: first arrival, last completion
	lastArrival                  int64 // last measured arrival: the throughput window's end
	deps                         []depCell
	xfer                         []float64 // bytes, see xferIndex
}

// depCell is one deployment's attempts within one replication.
type depCell struct {
	status              [nStatus]int64
	billedIn, billedOut int64
	tokenCost           float64
}

func newAggregator(w *world, warm warmRule, opt *Options, horizon float64) *aggregator {
	a := &aggregator{w: w, warm: warm, opt: opt, pending: map[pendKey][]pendingAttempt{}}
	a.width = bucketWidth(horizon)
	for _, f := range w.faults {
		a.wins = append(a.wins, results.FaultWindow{Start: f.start, End: f.end})
	}
	for _, name := range w.strats {
		a.strat(name)
	}
	return a
}

// bucketWidth picks a round time-bucket width giving about 150 buckets over
// the horizon (1 s when the horizon is unknown; buckets then double as needed).
func bucketWidth(horizonSeconds float64) int64 {
	if horizonSeconds <= 0 {
		return 1e9
	}
	target := horizonSeconds / 150
	for _, m := range []float64{0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 21600, 86400} {
		if m >= target {
			return int64(m * 1e9)
		}
	}
	return 86400e9
}

func (a *aggregator) strat(name string) *stratAgg {
	i := a.w.strategy(name)
	for len(a.strats) <= i {
		s := &stratAgg{idx: len(a.strats), name: a.w.strats[len(a.strats)], repIdx: map[int32]*repAgg{},
			ttft: newHist(3), e2e: newHist(3), series: newSeries(a.width),
			faults: make([]faultAgg, len(a.w.faults)), outFirst: make([]int64, len(a.w.faults)), ftally: map[int32][]results.FaultTally{},
			primary: make([]int64, len(a.w.providers))}
		a.strats = append(a.strats, s)
	}
	return a.strats[i]
}

func (s *stratAgg) rep(r int32, nRegions int) *repAgg {
	if ra := s.repIdx[r]; ra != nil {
		return ra
	}
	ra := &repAgg{rep: r, ttft: newHist(2), e2e: newHist(2), first: math.MaxInt64, last: math.MinInt64,
		xfer: make([]float64, nRegions*nXPaths*nXSources)}
	s.repIdx[r] = ra
	s.reps = append(s.reps, ra)
	return ra
}

func (ra *repAgg) cell(d int) *depCell {
	for len(ra.deps) <= d {
		ra.deps = append(ra.deps, depCell{})
	}
	return &ra.deps[d]
}

// add folds one record.
func (a *aggregator) add(o *results.Outcome) error {
	a.rows++
	if o.Kind == results.KindAttempt {
		a.recordedCost += o.CostUSD // request rows repeat their attempts' sum
	}
	s := a.strat(o.Strategy)
	k := pendKey{strat: int32(s.idx), rep: o.Replication, id: o.RequestID}
	dep := a.w.deployment(o.Deployment, o.Provider, o.Region)
	if o.Kind == results.KindAttempt {
		a.attemptRows++
		list := a.pending[k]
		if list == nil && len(a.free) > 0 {
			list, a.free = a.free[len(a.free)-1], a.free[:len(a.free)-1]
		}
		a.pending[k] = append(list, pendingAttempt{dep: int32(dep), class: int32(a.w.class(o.Class)), attempt: o.Attempt,
			status: o.Status, intended: o.Intended, sent: o.Sent, firstTok: o.FirstToken, done: o.Done,
			in: o.InputTokens, out: o.OutputTokens, cross: o.CrossCloudBytes})
		return nil
	}
	a.requestRows++
	atts := a.pending[k]
	delete(a.pending, k)
	a.exposure(o, atts)
	a.bookFaults(s, o, atts)
	if a.warm.measured(o.RequestID, o.Intended) {
		ra := s.rep(o.Replication, len(a.w.regions))
		class := a.w.class(o.Class)
		for i := range atts {
			a.attempt(s, ra, &atts[i])
		}
		a.request(s, ra, class, dep, o, atts)
	} else {
		a.warmupRequests++
	}
	if atts != nil {
		a.free = append(a.free, atts[:0])
	}
	return nil
}

// exposure sets a.exp to the fault windows one of the request's attempts
// was in flight during (results.FaultWindow.InFlight); a request whose
// attempt records are missing counts from its arrival to its end.
func (a *aggregator) exposure(o *results.Outcome, atts []pendingAttempt) {
	a.exp.Reset()
	if len(a.wins) == 0 {
		return
	}
	if len(atts) == 0 {
		a.exp.Add(a.wins, o.Intended, o.Done)
		return
	}
	for i := range atts {
		a.exp.Add(a.wins, atts[i].sent, atts[i].done)
	}
}

// bookFaults books a request (measured or not: the engines book warm-up
// too) into its replication's fault tallies, as the engines do.
func (a *aggregator) bookFaults(s *stratAgg, o *results.Outcome, atts []pendingAttempt) {
	if !a.exp.Any() {
		return
	}
	ts := s.ftally[o.Replication]
	if ts == nil {
		ts = results.NewFaultTallies(len(a.wins))
		s.ftally[o.Replication] = ts
	}
	first := ""
	for i := range atts {
		if atts[i].attempt == 1 {
			first = a.w.deps[atts[i].dep].name
			break
		}
	}
	fr := results.FaultRequestOf(o, first)
	a.exp.BookInto(ts, &fr)
}

// attempt folds one attempt of a measured request: its status, billed
// tokens and their price, its transfer bytes and its place on the timeline.
func (a *aggregator) attempt(s *stratAgg, ra *repAgg, at *pendingAttempt) {
	d := &a.w.deps[at.dep]
	c := ra.cell(int(at.dep))
	c.status[at.status]++
	in, out, billed := results.Billed(at.status, at.firstTok, at.in, at.out)
	if billed {
		c.billedIn += in
		c.billedOut += out
		// Provisioned capacity is paid per unit-hour; its tokens cost nothing more.
		if d.units == 0 {
			c.tokenCost += TokenCost(d.token, in, 0, out)
		}
	}
	rt := a.w.routeOf(int(at.class), int(at.dep))
	if a.opt.EstimateTransfer && !a.w.isSession(int(at.class)) {
		if rt.reqPayer >= 0 {
			ra.xfer[xferIndex(rt.reqPayer, rt.reqPath, xEstimated)] += float64(at.in) * a.opt.BytesPerInputToken
		}
		if rt.respPayer >= 0 && billed {
			ra.xfer[xferIndex(rt.respPayer, rt.respPath, xEstimated)] += float64(out) * a.opt.BytesPerOutputToken
		}
	}
	if at.cross > 0 && d.region >= 0 {
		// Recorded cross-cloud bytes carry no direction: they are charged
		// as inter-cloud egress of the deployment's provider.
		ra.xfer[xferIndex(d.region, xInterCloud, xRecorded)] += float64(at.cross)
	}
	s.series.attempt(max(at.done, at.sent), int(at.dep), at.status == results.StatusOK)
}

func (a *aggregator) request(s *stratAgg, ra *repAgg, class, dep int, o *results.Outcome, atts []pendingAttempt) {
	ra.requests++
	ra.status[o.Status]++
	ra.attempts += int64(max(o.Attempt, 1))
	ra.first = min(ra.first, o.Intended)
	ra.last = max(ra.last, o.Done)
	ra.lastArrival = max(ra.lastArrival, o.Intended)
	ok := o.Status == results.StatusOK
	good := false
	var ttft int64
	if ok {
		ttft = o.FirstToken - o.Intended
		e2e := o.Done - o.Intended
		ra.ok++
		ra.sumTTFT += float64(ttft)
		ra.sumE2E += float64(e2e)
		recordNS(ra.ttft, ttft)
		recordNS(ra.e2e, e2e)
		recordNS(s.ttft, ttft)
		recordNS(s.e2e, e2e)
		ci := &a.w.classes[class]
		good = (ci.ttft == 0 || ttft <= ci.ttft) && (ci.e2e == 0 || e2e <= ci.e2e)
		if o.Attempt > 1 {
			ra.retried++
		}
	}
	if good {
		ra.good++
	}
	first := dep
	for i := range atts {
		if atts[i].attempt == 1 {
			first = int(atts[i].dep)
			break
		}
	}
	if ok && first != dep {
		ra.failedOver++
	}
	for len(s.classes) <= class {
		s.classes = append(s.classes, classAgg{})
	}
	c := &s.classes[class]
	c.requests++
	if ok {
		c.ok++
	}
	if good {
		c.good++
	}
	if p := a.w.deps[first].provider; p >= 0 {
		for len(s.primary) <= p {
			s.primary = append(s.primary, 0)
		}
		s.primary[p]++
	}
	inAny := a.exp.Any()
	for fi := range a.w.faults {
		f := &a.w.faults[fi]
		hit := first < len(f.hit) && f.hit[first]
		switch {
		case a.exp.Has(fi):
			fa := &s.faults[fi]
			fa.requests++
			if !good {
				fa.breach++
			}
			if hit {
				fa.exposed++
			}
		case !inAny && hit:
			// Exposure outside every fault window: the share of normal
			// traffic the router sends first to what this fault takes out.
			s.outFirst[fi]++
		}
	}
	if !inAny {
		s.outside.requests++
		if !good {
			s.outside.breach++
		}
	}
	s.series.request(max(o.Done, o.Intended), ok, good, ttft)
}

// finish folds attempts whose request record never arrived (an interrupted
// run can end between the two), measured by their own send time, and sorts
// replications.
func (a *aggregator) finish() {
	keys := make([]pendKey, 0, len(a.pending))
	for k := range a.pending {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(x, y pendKey) int {
		if x.strat != y.strat {
			return int(x.strat - y.strat)
		}
		if x.rep != y.rep {
			return int(x.rep - y.rep)
		}
		return cmpUint(x.id, y.id)
	})
	for _, k := range keys {
		s := a.strats[k.strat]
		for _, at := range a.pending[k] {
			if !a.warm.measured(k.id, at.intended) {
				continue
			}
			a.orphanAttempts++
			a.attempt(s, s.rep(k.rep, len(a.w.regions)), &at)
		}
	}
	a.pending = nil
	for _, s := range a.strats {
		slices.SortFunc(s.reps, func(x, y *repAgg) int { return int(x.rep - y.rep) })
	}
}

func cmpUint(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
