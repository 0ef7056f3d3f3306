package results_test

import (
	"bytes"
	"math"
	"strings"
	"testing"

	"github.com/mcbench/mcbench/results"
)

// FuzzReadOutcomes: whatever outcomes.csv holds, ReadOutcomes never panics,
// refuses a bad file with an error that names it, calls fn at most once per
// line, and what it reads round-trips: written back with OutcomeWriter and
// read again, the records are the same (NaN costs included), so the writer
// and the reader agree on every value the reader lets through.
//
// header picks the header line put before the fuzzed rows (this layout's,
// 1.0's without lag_ns, this one's with an extra column, or none: the
// input brings its own). Keeping the 250-byte header out of the input
// keeps inputs short, and Go's fuzzer spends a number of calls growing
// with the square of an input's length minimizing each one that finds new
// coverage: with the header in every input that took seconds, at 0/s.
func FuzzReadOutcomes(f *testing.F) {
	current := strings.Join(results.OutcomeHeader, ",")
	headers := []string{
		current,
		strings.TrimSuffix(current, ",lag_ns"), // schema 1.0 had no lag_ns
		current + ",extra",
	}
	for _, c := range []struct {
		header uint8
		rows   string
	}{
		{0, "attempt,0,1,1,chat,s,azure,eastus2,aoai,100,101,102,103,200,0,929,225,ok,,0,0.5,0\nrequest,0,1,1,chat,s,azure,eastus2,aoai,100,101,102,103,200,0,929,225,ok,,0,0.5,-1\n"},
		{1, "attempt,1,2,3,\"a,b\",s,aws,us-east-1,br,0,0,0,0,9,5,1,0,throttled,quota_tokens,17,1e-6\n"},
		{2, "request,0,18446744073709551615,1,c,s,p,r,d,-1,0,0,0,0,-1,0,0,failed,\"x\ny\",0,NaN,1,z\n"},
		{0, "attempt,0,1,1,c,s,p,r,d,0,0,0,0,0,0,0,0,nope,,0,0,0\n"},
		{3, "kind,replication\nattempt,0\n"}, {3, ""}, {3, "\n"}, {0, "\""},
	} {
		f.Add(c.header, []byte(c.rows))
	}
	const name = "run/outcomes.csv"
	f.Fuzz(func(t *testing.T, header uint8, data []byte) {
		if int(header) < len(headers) {
			data = append([]byte(headers[header]+"\n"), data...)
		}
		var got []results.Outcome
		err := results.ReadOutcomes(bytes.NewReader(data), name, func(o *results.Outcome) error {
			got = append(got, *o)
			return nil
		})
		if len(got) > bytes.Count(data, []byte("\n"))+1 {
			t.Fatalf("%d records from %d lines", len(got), bytes.Count(data, []byte("\n"))+1)
		}
		if err != nil {
			if !strings.Contains(err.Error(), name) {
				t.Fatalf("the error does not name the file: %v", err)
			}
			return
		}
		var buf bytes.Buffer
		w, err := results.NewOutcomeWriter(&buf, true)
		if err != nil {
			t.Fatal(err)
		}
		for i := range got {
			if err := w.Write(&got[i]); err != nil {
				t.Fatal(err)
			}
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		i := 0
		err = results.ReadOutcomes(&buf, name, func(o *results.Outcome) error {
			if i >= len(got) || !sameOutcome(*o, got[i]) {
				t.Fatalf("record %d changed when written and read back:\n%+v\n%+v\n%s", i, got[min(i, len(got)-1)], *o, buf.Bytes())
			}
			i++
			return nil
		})
		if err != nil || i != len(got) {
			t.Fatalf("read back %d of %d records: %v", i, len(got), err)
		}
	})
}

// sameOutcome compares records field by field, with a NaN cost equal to a
// NaN cost.
func sameOutcome(a, b results.Outcome) bool {
	if math.IsNaN(a.CostUSD) && math.IsNaN(b.CostUSD) {
		a.CostUSD, b.CostUSD = 0, 0
	}
	return a == b
}
