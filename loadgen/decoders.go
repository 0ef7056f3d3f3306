package loadgen

import (
	"net/http"

	"github.com/mcbench/mcbench/backends/azure"
	"github.com/mcbench/mcbench/backends/bedrock"
	"github.com/mcbench/mcbench/backends/timing"
	"github.com/mcbench/mcbench/scenarios"
)

// newDecoder returns the body decoder for a provider's response: SSE for
// Azure streams, event-stream frames for Bedrock streams, JSON otherwise.
// onEvent, if set, sees every decoded stream event as it arrives.
func newDecoder(kind string, resp *http.Response, t *timing.Stream, onEvent func(timing.Event)) timing.BodyDecoder {
	if kind == scenarios.KindBedrock {
		d := bedrock.NewBodyDecoder(resp, t)
		if sd, ok := d.(*bedrock.StreamDecoder); ok {
			sd.OnEvent = onEvent
		}
		return d
	}
	d := azure.NewBodyDecoder(resp, t)
	if sd, ok := d.(*azure.StreamDecoder); ok {
		sd.OnEvent = onEvent
	}
	return d
}
