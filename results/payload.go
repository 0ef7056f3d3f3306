package results

// Payload sizes the records' byte counts assume for a model call: the
// simulator counts with them the bytes agentic sessions move across regions
// and clouds (Outcome.CrossCloudBytes, SessionRecord's byte fields), and the
// reports price client transfer from tokens with the same figures.
const (
	// PromptBytesPerToken is what one input token adds to a request body:
	// about four bytes of JSON text.
	PromptBytesPerToken = 4
	// StreamBytesPerToken is what one output token adds to a streamed
	// response: one SSE chunk (Azure) or event-stream frame (Bedrock) of
	// JSON envelope each: 150–400 bytes in the captures of docs/ARCHITECTURE.md
	// ("Payload sizes"), 250 in the middle.
	StreamBytesPerToken = 250
)
