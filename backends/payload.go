package backends

// Payload sizes used to estimate the bytes a model call moves, shared by the
// simulator (which counts the bytes agentic sessions move across regions and
// clouds) and the reports (which price client transfer from tokens).
const (
	// PromptBytesPerToken is what one input token adds to a request body:
	// about four bytes of JSON text.
	PromptBytesPerToken = 4
	// StreamBytesPerToken is what one output token adds to a streamed
	// response: one SSE chunk (Azure) or event-stream frame (Bedrock) of
	// JSON envelope each, which the research note measures at 150–400 bytes.
	StreamBytesPerToken = 250
)
