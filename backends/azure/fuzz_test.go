package azure

import (
	"reflect"
	"testing"

	"github.com/mcbench/mcbench/backends/timing"
)

// FuzzSSEDecode feeds arbitrary bytes, split at an arbitrary point, to the
// SSE decoder. Whatever the input it must not panic, must reach the same
// result however the bytes are split across reads, and must keep its
// counters consistent.
//
// The body stays cheap (two decodes and a struct comparison, a few
// microseconds per input) because Go's fuzzer minimizes every input that
// finds new coverage by removing ranges of bytes, a number of calls that
// grows with the square of the input's length; both workers minimizing
// at 200 µs a call is what made the counters sit at 0/s for tens of seconds.
func FuzzSSEDecode(f *testing.F) {
	f.Add(sse(azureEvents[1:4]...), uint16(7))
	f.Add(sse(azureEvents[5:]...), uint16(40))
	f.Add([]byte("data: [DONE]\r\n\r\n"), uint16(1))
	f.Add([]byte(": c\nevent: x\ndata: {\"choices\":[{\"delta\":{\"content\":\"a\\u0020b\"}}]}\r\rdata: [DONE]"), uint16(30))
	f.Add([]byte("data: {\"error\":{\"code\":\"x\"}}\n\n"), uint16(0))
	f.Fuzz(func(t *testing.T, data []byte, split uint16) {
		whole := decodeSplit(data, len(data)+1)
		k := int(split) % (len(data) + 1)
		var tm timing.Stream
		d := NewStreamDecoder(&tm)
		d.Feed(0, data[:k])
		d.Feed(0, data[k:])
		d.End(0, nil)
		if !sameStream(whole, tm) {
			t.Fatalf("split at %d changes the result:\n%+v\n%+v", k, whole, tm)
		}
		if tm.Chunks > tm.Events || tm.Tokens < tm.Chunks || tm.Gaps.N != int64(max(tm.Chunks-1, 0)) {
			t.Fatalf("inconsistent counters %+v", tm)
		}
		if tm.Err == nil && !tm.Ended {
			t.Fatalf("no error but not ended: %+v", tm)
		}
		if tm.Err != nil && timing.ErrorClass(tm.Err) == "read" {
			t.Fatalf("unexpected error class for %v", tm.Err)
		}
	})
}

// sameStream reports whether two decodes reached the same result: equal
// times, counters and gap histograms, and errors of the same type and
// value. It replaces comparing fmt.Sprint of both, which printed the 2 KiB
// gap histogram by reflection twice per input (nine tenths of the fuzz
// body's time) and, since fmt and strconv are coverage-instrumented while
// fuzzing, reported inputs as interesting because their numbers printed
// differently.
func sameStream(a, b timing.Stream) bool {
	ea, eb := a.Err, b.Err
	a.Err, b.Err = nil, nil
	return a == b && sameError(ea, eb)
}

// sameError compares errors by type and by the value they point to, so two
// *timing.MalformedError of equal offset and text are the same.
func sameError(a, b error) bool {
	if a == b {
		return true
	}
	if a == nil || b == nil {
		return false
	}
	va, vb := reflect.ValueOf(a), reflect.ValueOf(b)
	if va.Type() != vb.Type() {
		return false
	}
	if va.Kind() == reflect.Pointer && va.Elem().Comparable() {
		return va.Elem().Interface() == vb.Elem().Interface()
	}
	return a.Error() == b.Error()
}

// TestSameStream: the fuzz target's comparison tells results apart.
func TestSameStream(t *testing.T) {
	a := timing.Stream{Events: 2, Tokens: 3, Err: &timing.MalformedError{Offset: 5, What: "x"}}
	b := a
	b.Err = &timing.MalformedError{Offset: 5, What: "x"}
	if !sameStream(a, b) {
		t.Fatal("equal streams with equal errors (distinct pointers) differ")
	}
	for _, c := range []timing.Stream{
		{Events: 2, Tokens: 3, Err: &timing.MalformedError{Offset: 6, What: "x"}},
		{Events: 2, Tokens: 3, Err: timing.ErrIncomplete},
		{Events: 2, Tokens: 3},
		{Events: 2, Tokens: 4, Err: a.Err},
		{Events: 2, Tokens: 3, Err: a.Err, Gaps: timing.GapHist{Counts: [timing.GapBuckets]uint32{1}}},
	} {
		if sameStream(a, c) {
			t.Errorf("%+v and %+v compare equal", a, c)
		}
	}
}
