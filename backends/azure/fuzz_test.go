package azure

import (
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
		if !whole.Equal(tm) {
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
