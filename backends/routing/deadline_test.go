package routing

import (
	"testing"

	"github.com/mcbench/mcbench/results"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestDeadlineRetryAfterWithinBudget(t *testing.T) {
	d, err := NewDeadline(DefaultDeadlineConfig(), cands("aoai", "bedrock"))
	require.NoError(t, err)
	// Deadline at 30 s; a 429 at 1 s asking for 5 s fits: wait, same deployment.
	steps := drive(d, sec, Request{Deadline: 30 * sec}, 3, func(attempt, dep int, at int64) Observation {
		if attempt == 1 {
			return throttled(dep, at, 5*sec)
		}
		return okObs(dep, at, 300*ms)
	})
	assert.Equal(t, []int{0, 0}, deps(steps))
	assert.Equal(t, 5*sec, steps[0].delay)

	// Asking for 40 s does not fit: fail over at once.
	steps = drive(d, sec, Request{Deadline: 30 * sec}, 3, func(attempt, dep int, at int64) Observation {
		if attempt == 1 {
			return throttled(dep, at, 40*sec)
		}
		return okObs(dep, at, 300*ms)
	})
	assert.Equal(t, []int{0, 1}, deps(steps))
	assert.Zero(t, steps[0].delay)

	// Neither does 90 s without a deadline (over the 60 s cap).
	steps = drive(d, sec, Request{}, 3, func(attempt, dep int, at int64) Observation {
		if attempt == 1 {
			return throttled(dep, at, 90*sec)
		}
		return okObs(dep, at, 300*ms)
	})
	assert.Equal(t, []int{0, 1}, deps(steps))
}

func TestDeadlineRoundsAndExhaustion(t *testing.T) {
	d, err := NewDeadline(DefaultDeadlineConfig(), cands("a", "b"))
	require.NoError(t, err)
	down := func(_, dep int, at int64) Observation { return outage(dep, at) }
	steps := drive(d, 0, Request{Deadline: 100 * sec}, 7, down)
	assert.Equal(t, []int{0, 1, 0, 1, 0, 1, 0}, deps(steps))
	// Fail over at once within a round; 0.5 s, 1 s, 2 s between rounds.
	assert.Equal(t, []int64{0, 500 * ms, 0, sec, 0, 2 * sec}, []int64{steps[0].delay, steps[1].delay, steps[2].delay, steps[3].delay, steps[4].delay, steps[5].delay})

	// A round's backoff that does not fit is skipped; past the deadline
	// nothing more is tried.
	steps = drive(d, 0, Request{Deadline: 300 * ms}, 7, func(_, dep int, at int64) Observation {
		o := outage(dep, at)
		o.Done = at + 100*ms
		return o
	})
	assert.Equal(t, []int{0, 1, 0}, deps(steps))
	assert.Zero(t, steps[1].delay, "0.5 s backoff would pass the deadline: go at once")
	assert.False(t, steps[2].retry, "the deadline has passed")

	// Client errors are not retried.
	steps = drive(d, 0, Request{}, 3, func(_, dep int, at int64) Observation {
		return failObs(dep, results.StatusClientError, "http_400", at)
	})
	assert.Equal(t, []int{0}, deps(steps))
	assert.False(t, steps[0].retry)
}

func TestDeadlineFirstTokenTimeout(t *testing.T) {
	d, err := NewDeadline(DefaultDeadlineConfig(), cands("a", "b"))
	require.NoError(t, err)
	assert.Equal(t, 10*sec, d.FirstTokenTimeout(0, first(0.5)), "a silent upstream is given 10 s, not 90")
	assert.Equal(t, 4*sec, d.FirstTokenTimeout(sec, &Request{Deadline: 5 * sec}), "and never past the deadline")
	assert.Equal(t, int64(1), d.FirstTokenTimeout(6*sec, &Request{Deadline: 5 * sec}))
	// An engine following the contract fails over after the TTFT timeout.
	steps := drive(d, 0, Request{Deadline: 60 * sec}, 3, func(_, dep int, at int64) Observation {
		if dep == 0 { // silent
			o := failObs(dep, results.StatusTimedOut, ClassTTFTTimeout, at)
			o.Done = at + d.FirstTokenTimeout(at, &Request{Deadline: 60 * sec})
			return o
		}
		return okObs(dep, at, 300*ms)
	})
	assert.Equal(t, []int{0, 1}, deps(steps))
	assert.Equal(t, 10*sec, steps[0].at)
	assert.Zero(t, steps[0].delay)
}
