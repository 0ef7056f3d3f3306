package main

import (
	"fmt"
	"io"
	"math"
	"os"
	"strings"
	"sync/atomic"
	"text/tabwriter"
	"time"

	"github.com/mcbench/mcbench/results"
	"github.com/schollz/progressbar/v3"
	"golang.org/x/term"
)

// table prints aligned columns.
type table struct{ tw *tabwriter.Writer }

func newTable(w io.Writer) *table {
	return &table{tw: tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)}
}

func (t *table) row(cells ...string) { fmt.Fprintln(t.tw, strings.Join(cells, "\t")+"\t") }
func (t *table) flush()              { t.tw.Flush() }

func pct(n, of int64) string {
	if of == 0 {
		return "-"
	}
	return fmt.Sprintf("%.2f%%", 100*float64(n)/float64(of))
}

// secs formats seconds with a unit that keeps three significant figures.
func secs(s float64) string {
	switch {
	case math.IsNaN(s) || s == 0:
		return "-"
	case s < 0:
		return "-" + secs(-s) // an improvement, such as a window with less load than the baseline

	case s < 1e-3:
		return fmt.Sprintf("%.0fµs", s*1e6)
	case s < 1:
		return fmt.Sprintf("%.0fms", s*1e3)
	default:
		return fmt.Sprintf("%.3gs", s)
	}
}

func meanCI(l results.Latency) string {
	if l.Mean == 0 {
		return "-"
	}
	if math.IsNaN(l.MeanCI95[0]) || l.MeanCI95.HalfWidth() == 0 {
		return secs(l.Mean)
	}
	return fmt.Sprintf("%s ±%s", secs(l.Mean), secs(l.MeanCI95.HalfWidth()))
}

// progress is a progress bar on stderr, shown only when stderr is a terminal.
// It is fed from worker goroutines, so it counts atomically and redraws from
// one goroutine of its own.
type progress struct {
	bar  *progressbar.ProgressBar
	n    atomic.Int64
	done chan struct{}
	stop chan struct{}
}

func newProgress(w io.Writer, total int64, what string, disabled bool) *progress {
	p := &progress{}
	if disabled || !isTerminal(w) {
		return p
	}
	p.bar = progressbar.NewOptions64(total,
		progressbar.OptionSetWriter(w),
		progressbar.OptionSetDescription(what),
		progressbar.OptionShowCount(),
		progressbar.OptionShowIts(),
		progressbar.OptionSetItsString("req"),
		progressbar.OptionThrottle(200*time.Millisecond),
		progressbar.OptionClearOnFinish(),
	)
	p.done, p.stop = make(chan struct{}), make(chan struct{})
	go func() {
		defer close(p.done)
		t := time.NewTicker(200 * time.Millisecond)
		defer t.Stop()
		for {
			select {
			case <-t.C:
				_ = p.bar.Set64(p.n.Load())
			case <-p.stop:
				return
			}
		}
	}()
	return p
}

// add counts finished work; safe for concurrent use.
func (p *progress) add(n int64) { p.n.Add(n) }

func (p *progress) finish() {
	if p.bar == nil {
		return
	}
	close(p.stop)
	<-p.done
	_ = p.bar.Finish()
}

// isTerminal reports whether w is a terminal (for progress output).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
