package lateness

import (
	"testing"
	"time"
)

func TestQuantiles(t *testing.T) {
	ms := time.Millisecond
	l := Of(9*ms, 0, 1*ms, 2*ms, 3*ms, 4*ms, 5*ms, 6*ms, 7*ms, 8*ms)
	for _, c := range []struct {
		q    float64
		want time.Duration
	}{{0, 0}, {0.5, 5 * ms}, {0.9, 9 * ms}, {0.99, 9 * ms}, {1, 9 * ms}, {-1, 0}} {
		if got := l.Quantile(c.q); got != c.want {
			t.Errorf("Quantile(%v) = %v, want %v", c.q, got, c.want)
		}
	}
	if l.N() != 10 || Of().Quantile(0.9) != 0 {
		t.Errorf("N %d, empty p90 %v", l.N(), Of().Quantile(0.9))
	}
	if got, want := l.String(), "timer lateness p50 5ms, p90 9ms, p99 9ms (10 sleeps of 1ms)"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
}

// TestDuringSamples: the probe samples while f runs (at least once, at
// most once per Tick of it and one more), and stops with f.
func TestDuringSamples(t *testing.T) {
	l := During(func() { time.Sleep(30 * time.Millisecond) })
	if l.N() == 0 || l.N() > 32 {
		t.Fatalf("%d samples in 30 ms of 1 ms sleeps", l.N())
	}
	if l := During(func() {}); l.N() != 1 {
		t.Fatalf("%d samples of an instant f, want 1", l.N())
	}
}
