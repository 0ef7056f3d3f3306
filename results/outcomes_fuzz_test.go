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
func FuzzReadOutcomes(f *testing.F) {
	header := strings.Join(results.OutcomeHeader, ",")
	v10 := strings.TrimSuffix(header, ",lag_ns") // schema 1.0 had no lag_ns
	for _, s := range []string{
		header + "\nattempt,0,1,1,chat,s,azure,eastus2,aoai,100,101,102,103,200,0,929,225,ok,,0,0.5,0\nrequest,0,1,1,chat,s,azure,eastus2,aoai,100,101,102,103,200,0,929,225,ok,,0,0.5,-1\n",
		v10 + "\nattempt,1,2,3,\"a,b\",s,aws,us-east-1,br,0,0,0,0,9,5,1,0,throttled,quota_tokens,17,1e-6\n",
		header + ",extra\nrequest,0,18446744073709551615,1,c,s,p,r,d,-1,0,0,0,0,-1,0,0,failed,\"x\ny\",0,NaN,1,z\n",
		header + "\nattempt,0,1,1,c,s,p,r,d,0,0,0,0,0,0,0,0,nope,,0,0,0\n",
		"kind,replication\nattempt,0\n", "", "\n", "\"",
	} {
		f.Add([]byte(s))
	}
	const name = "run/outcomes.csv"
	f.Fuzz(func(t *testing.T, data []byte) {
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
