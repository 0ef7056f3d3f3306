package results

// Payload sizes the records' byte counts assume for a model call: the
// simulator counts with them the bytes agentic sessions move across regions
// and clouds (Outcome.CrossCloudBytes, SessionRecord's byte fields), and the
// reports price client transfer from tokens with the same figures.
const (
	// PromptBytesPerToken is what one input token adds to a request body:
	// about four bytes of English text (OpenAI, "What are tokens and how to
	// count them": one token is about four characters). The load
	// generator's synthetic prompts are six bytes a token ("token "); the
	// figure models real prompts, not them.
	PromptBytesPerToken = 4
	// StreamBytesPerToken is what one output token adds to a streamed
	// response: one SSE chunk (Azure) or event-stream frame (Bedrock) of
	// JSON envelope each. As the fakes write them, an Azure chunk with
	// content-filter results is 476–482 bytes and a Bedrock ConverseStream
	// frame 148–154 (docs/ARCHITECTURE.md, "Payload sizes"); 250 sits
	// between the two. One figure for both keeps the simulator's numbers
	// comparable across providers; per-provider sizes belong with the wire
	// (counting the bytes a load test really moves).
	StreamBytesPerToken = 250
)
