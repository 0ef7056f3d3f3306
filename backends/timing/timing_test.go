package timing

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestGapBucketsTileTheLine(t *testing.T) {
	prevHi := uint64(0)
	for i := range GapBuckets {
		lo, hi := GapBucketBounds(i)
		require.Equal(t, prevHi, lo, "bucket %d starts where %d ends", i, i-1)
		require.Less(t, lo, hi)
		if lo >= 32 {
			assert.LessOrEqual(t, float64(hi-lo)/float64(lo), 1.0/16, "bucket %d is at most 1/16 of its lower bound wide", i)
		}
		assert.Equal(t, i, gapBucket(lo))
		assert.Equal(t, i, gapBucket(hi-1))
		prevHi = hi
	}
	assert.Equal(t, GapBuckets-1, gapBucket(1<<62), "huge gaps share the last bucket")
}

func TestGapHistQuantiles(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var h GapHist
	var vals []time.Duration
	for range 10000 {
		d := time.Duration(r.ExpFloat64() * float64(20*time.Millisecond))
		vals = append(vals, d)
		h.Add(d)
	}
	slices.Sort(vals)
	for _, q := range []float64{0.1, 0.5, 0.9, 0.99} {
		exact := vals[int(q*float64(len(vals)))-1]
		assert.InEpsilon(t, float64(exact), float64(h.Quantile(q)), 0.035, "q=%v", q)
	}
	assert.Equal(t, vals[0], h.Quantile(0))
	assert.Equal(t, vals[len(vals)-1], h.Quantile(1))
	var sum time.Duration
	for _, v := range vals {
		sum += v
	}
	assert.Equal(t, sum, h.Sum)
	assert.Equal(t, sum/10000, h.Mean())

	// Merging two halves gives the whole exactly.
	var a, b GapHist
	for i, v := range vals {
		if i%2 == 0 {
			a.Add(v)
		} else {
			b.Add(v)
		}
	}
	a.Merge(&b)
	assert.Equal(t, h, a)

	var empty GapHist
	assert.Zero(t, empty.Quantile(0.5))
	assert.Zero(t, empty.Mean())
	empty.Add(-time.Second)
	assert.Zero(t, empty.Max, "negative gaps count as zero")
}

func TestGapHistJSONRoundTrip(t *testing.T) {
	var h GapHist
	for _, ms := range []int{3, 18, 19, 19, 20, 21, 250} {
		h.Add(time.Duration(ms) * time.Millisecond)
	}
	b, err := json.Marshal(h)
	require.NoError(t, err)
	assert.Contains(t, string(b), `"n":7`)
	assert.Contains(t, string(b), `"max_ms":250`)
	var back GapHist
	require.NoError(t, json.Unmarshal(b, &back))
	assert.Equal(t, h, back)
	assert.Less(t, len(b), 300, "compact: %s", b)

	require.Error(t, json.Unmarshal([]byte(`{"buckets":[[1,99999999999]]}`), &back))
	b, err = json.Marshal(GapHist{})
	require.NoError(t, err)
	assert.Contains(t, string(b), `"buckets":[]`)
}

func TestErrorClass(t *testing.T) {
	for err, want := range map[error]string{
		nil:                                   "",
		&ServiceError{Status: 429, Code: "x"}: "http",
		&ServiceError{Code: "throttlingException"}:  "stream_error",
		&MalformedError{What: "x"}:                  "malformed",
		ErrIncomplete:                               "incomplete",
		fmt.Errorf("wrap: %w", io.ErrUnexpectedEOF): "incomplete",
		ErrBodyClosed:                               "closed",
		errors.New("connection reset by peer"):      "read",
	} {
		assert.Equal(t, want, ErrorClass(err), "%v", err)
	}
	assert.Equal(t, `HTTP 429 "x"`, (&ServiceError{Status: 429, Code: "x"}).Error())
	assert.Equal(t, "HTTP 500", (&ServiceError{Status: 500}).Error())
}

// countingDecoder records what a TimedBody feeds it.
type countingDecoder struct {
	bytes int
	ended []error
}

func (d *countingDecoder) Feed(_ time.Duration, p []byte) { d.bytes += len(p) }
func (d *countingDecoder) End(_ time.Duration, err error) { d.ended = append(d.ended, err) }

func TestTimedBody(t *testing.T) {
	var tm Stream
	dec := &countingDecoder{}
	b := NewTimedBody(io.NopCloser(strings.NewReader("hello world")), time.Now(), &tm, dec)
	calls := 0
	b.OnEnd = func(*Stream) { calls++ }
	data, err := io.ReadAll(b)
	require.NoError(t, err)
	require.NoError(t, b.Close())
	assert.Equal(t, "hello world", string(data))
	assert.Equal(t, 11, dec.bytes)
	assert.Equal(t, []error{nil}, dec.ended, "ended once, at EOF; the Close after it changes nothing")
	assert.Equal(t, 1, calls)
	assert.Equal(t, int64(11), tm.Bytes)
	assert.GreaterOrEqual(t, tm.Done, tm.FirstByte)
}

func TestStreamTimingHelpers(t *testing.T) {
	var tm Stream
	tm.Content(10*time.Millisecond, 1)
	tm.Content(30*time.Millisecond, 2)
	tm.Content(40*time.Millisecond, 1)
	assert.Equal(t, 4, tm.Output(), "no usage: the counted tokens")
	assert.Equal(t, 10*time.Millisecond, tm.PerToken())
	assert.Equal(t, int64(2), tm.Gaps.N)
	tm.Usage, tm.OutputTokens = true, 5
	assert.Equal(t, 5, tm.Output())
	tm.Fail(ErrIncomplete)
	tm.Fail(ErrBodyClosed)
	assert.Equal(t, ErrIncomplete, tm.Err, "the first error sticks")

	var d BufferedDecoder
	var got string
	var complete bool
	d.Limit = 4
	d.Parse = func(_ time.Duration, body []byte, c bool, _ error) { got, complete = string(body), c }
	d.Feed(0, []byte("abc"))
	d.Feed(0, []byte("def"))
	d.End(0, nil)
	assert.Equal(t, "abcd", got)
	assert.False(t, complete)
}
