package loadgen

import (
	"time"

	"github.com/mcbench/mcbench/backends"
)

// newDecoder returns the body decoder for a provider's response.
// TODO(lead): wire the SSE and event-stream decoders once they land.
func newDecoder(kind string, stream bool, t *backends.StreamTiming) backends.BodyDecoder {
	return &backends.BufferedDecoder{Limit: 64 << 10, Parse: func(time.Duration, []byte, bool, error) {}}
}
