package loadgen

import (
	"net/http"

	"github.com/mcbench/mcbench/backends"
	"github.com/mcbench/mcbench/backends/azure"
	"github.com/mcbench/mcbench/backends/bedrock"
	"github.com/mcbench/mcbench/scenarios"
)

// newDecoder returns the body decoder for a provider's response: SSE for
// Azure streams, event-stream frames for Bedrock streams, JSON otherwise.
func newDecoder(kind string, resp *http.Response, t *backends.StreamTiming) backends.BodyDecoder {
	if kind == scenarios.KindBedrock {
		return bedrock.NewBodyDecoder(resp, t)
	}
	return azure.NewBodyDecoder(resp, t)
}
