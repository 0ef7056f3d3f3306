package results

import (
	"bytes"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestOutcomeCSVRoundTrip(t *testing.T) {
	in := []Outcome{
		{Kind: KindAttempt, Replication: 2, RequestID: 41, Attempt: 1, Class: "chat", Strategy: "s,1", Provider: "azure",
			Region: "eastus2", Deployment: "d", Intended: 5, Sent: 6, FirstByte: 7, FirstToken: 8, Done: 9, Queued: 1,
			InputTokens: 100, OutputTokens: 20, Status: StatusThrottled, ErrorClass: "quota_tokens", CrossCloudBytes: 512, CostUSD: 0.0015},
		{Kind: KindRequest, RequestID: 41, Attempt: 2, Status: StatusOK},
	}
	var buf bytes.Buffer
	w, err := NewOutcomeWriter(&buf, true)
	require.NoError(t, err)
	for i := range in {
		require.NoError(t, w.Write(&in[i]))
	}
	require.NoError(t, w.Flush())
	var out []Outcome
	require.NoError(t, ReadOutcomes(&buf, "outcomes.csv", func(o *Outcome) error { out = append(out, *o); return nil }))
	assert.Equal(t, in, out)
}

func TestOutcomeCSVErrorsNameFileLineAndColumn(t *testing.T) {
	head := strings.Join(OutcomeHeader, ",")
	row := "attempt,0,1,1,c,s,p,r,d,0,0,0,0,0,0,10,x,ok,,0,0,0"
	err := ReadOutcomes(strings.NewReader(head+"\n"+row+"\n"), "outcomes.csv", func(*Outcome) error { return nil })
	require.Error(t, err)
	assert.Contains(t, err.Error(), "outcomes.csv:2:40: output_tokens: ") // the bad field starts at byte 40
	assert.Contains(t, err.Error(), "output_tokens")
	err = ReadOutcomes(strings.NewReader("kind,replication\n"), "outcomes.csv", func(*Outcome) error { return nil })
	assert.ErrorContains(t, err, `outcomes.csv:1: request_id: the header has no such column`)
}
