package azure

import (
	"fmt"
	"testing"

	"github.com/mcbench/mcbench/backends/timing"
)

// FuzzSSEDecode feeds arbitrary bytes, split at an arbitrary point, to the
// SSE decoder. Whatever the input it must not panic, must reach the same
// result however the bytes are split across reads, and must keep its
// counters consistent.
func FuzzSSEDecode(f *testing.F) {
	f.Add(sse(azureEvents...), uint16(7))
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
		if fmt.Sprint(whole) != fmt.Sprint(tm) {
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
