package results

import (
	"os"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Parts written concurrently, in any order, merge into the same files:
// ordered by strategy name, then replication, under one header each.
func TestPartsMergeInAFixedOrder(t *testing.T) {
	write := func(order []int) (string, string) {
		dir := t.TempDir()
		p, err := NewParts(dir)
		require.NoError(t, err)
		var wg sync.WaitGroup
		for _, k := range order {
			wg.Add(1)
			go func() {
				defer wg.Done()
				strat := []string{"b/x", "a"}[k%2]
				pt, err := p.Open(strat, k/2)
				require.NoError(t, err)
				o := Outcome{Kind: KindRequest, Replication: int32(k / 2), RequestID: uint64(k), Attempt: 1, Strategy: strat, Status: StatusOK}
				require.NoError(t, pt.Write(&o))
				if k%2 == 0 {
					require.NoError(t, pt.WriteSession(&SessionRecord{Replication: int32(k / 2), SessionID: uint64(k), Strategy: strat, Steps: 2}))
				}
				require.NoError(t, pt.Close())
			}()
		}
		wg.Wait()
		require.NoError(t, p.Merge())
		_, err = os.Stat(filepath.Join(dir, PartsDir))
		assert.True(t, os.IsNotExist(err), "parts are removed after the merge")
		o, err := os.ReadFile(filepath.Join(dir, OutcomesFile))
		require.NoError(t, err)
		s, err := os.ReadFile(filepath.Join(dir, SessionsFile))
		require.NoError(t, err)
		return string(o), string(s)
	}
	o1, s1 := write([]int{0, 1, 2, 3, 4, 5})
	o2, s2 := write([]int{5, 3, 1, 4, 2, 0})
	assert.Equal(t, o1, o2)
	assert.Equal(t, s1, s2)

	var ids []uint64
	f, err := os.Open(writeTemp(t, o1))
	require.NoError(t, err)
	defer f.Close()
	require.NoError(t, ReadOutcomes(f, "outcomes.csv", func(o *Outcome) error { ids = append(ids, o.RequestID); return nil }))
	// Strategy "a" (odd k) first, by replication; then "b/x".
	assert.Equal(t, []uint64{1, 3, 5, 0, 2, 4}, ids)
}

func writeTemp(t *testing.T, text string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "f.csv")
	require.NoError(t, os.WriteFile(p, []byte(text), 0o644))
	return p
}

func TestSessionCSVRoundTrip(t *testing.T) {
	in := []SessionRecord{
		{Replication: 3, SessionID: 1 << 40, Class: "agent,x", Strategy: "fed", Orchestrator: "agentcore-use1", Start: 5, Done: 9e9,
			Status: StatusFailed, ErrorClass: "outage", Steps: 4, Attempts: 6, Failovers: 1, CrossRegionBytes: 10, CrossCloudBytes: 20, StateBytes: 30},
		{SessionID: 2, Status: StatusOK},
	}
	p := filepath.Join(t.TempDir(), SessionsFile)
	f, err := os.Create(p)
	require.NoError(t, err)
	w, err := NewSessionWriter(f, true)
	require.NoError(t, err)
	for i := range in {
		require.NoError(t, w.Write(&in[i]))
	}
	require.NoError(t, w.Flush())
	require.NoError(t, f.Close())
	r, err := os.Open(p)
	require.NoError(t, err)
	defer r.Close()
	var out []SessionRecord
	require.NoError(t, ReadSessions(r, p, func(s *SessionRecord) error { out = append(out, *s); return nil }))
	assert.Equal(t, in, out)

	bad := writeTemp(t, "replication,session_id\n1,2\n")
	rb, err := os.Open(bad)
	require.NoError(t, err)
	defer rb.Close()
	err = ReadSessions(rb, "sessions.csv", func(*SessionRecord) error { return nil })
	assert.ErrorContains(t, err, "sessions.csv:1: class: the header has no such column")
}
