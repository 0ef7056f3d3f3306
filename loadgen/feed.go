package loadgen

import (
	"sync"
	"time"

	"github.com/mcbench/mcbench/scenarios"
)

// RequestFeed hands out a scenario's request stream by hit number: the
// replay pacer reads hit k's arrival time, the transport reads hit k's
// tokens and class. Both read in (nearly) increasing k, so the feed keeps
// only a window of recent requests and memory stays flat however long the
// run.
type RequestFeed struct {
	mu     sync.Mutex
	stream *scenarios.Stream
	ring   []scenarios.Request
	next   uint64 // requests generated so far
	ended  bool
}

// NewRequestFeed opens replication 0 of the scenario's stream. The run
// bounds of the scenario apply (requests, horizon) unless unbounded is set,
// in which case the stream runs until the pacer or the duration stops it.
func NewRequestFeed(s *scenarios.Scenario, unbounded bool) (*RequestFeed, error) {
	sc := *s
	if unbounded {
		sc.Run.Requests, sc.Run.Horizon = 0, 0
	}
	st, err := scenarios.NewStream(&sc, 0)
	if err != nil {
		return nil, err
	}
	return &RequestFeed{stream: st, ring: make([]scenarios.Request, intendedWindow)}, nil
}

// ensure generates requests up to k; it reports whether request k exists.
func (f *RequestFeed) ensure(k uint64) bool {
	for f.next <= k && !f.ended {
		var r scenarios.Request
		if !f.stream.Next(&r) {
			f.ended = true
			break
		}
		f.ring[f.next%intendedWindow] = r
		f.next++
	}
	return k < f.next && f.next-k <= intendedWindow
}

// Request returns request k of the stream.
func (f *RequestFeed) Request(k uint64) (scenarios.Request, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if !f.ensure(k) {
		return scenarios.Request{}, false
	}
	return f.ring[k%intendedWindow], true
}

func (f *RequestFeed) due(k uint64) (time.Duration, bool) {
	r, ok := f.Request(k)
	return time.Duration(r.At), ok
}

// Err reports a stream error (a bad trace row, say).
func (f *RequestFeed) Err() error {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.stream.Err()
}

// Close releases the stream's files.
func (f *RequestFeed) Close() error { return f.stream.Close() }
