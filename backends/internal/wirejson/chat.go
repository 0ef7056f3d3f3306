package wirejson

// Chat is what an OpenAI-style chat completion (a stream chunk or a whole
// response) carries that timing needs. It is reset by ParseChat.
type Chat struct {
	// Content says whether any choice carried non-empty output: delta (or
	// message) content, refusal, or tool-call arguments. Reasoning text does
	// not count: TTFT is the first content token.
	Content bool
	// Tokens counts the output's words, at least one per non-empty piece.
	Tokens int
	// Finish is the raw finish_reason of the first choice that has one.
	Finish []byte
	// Usage says whether a usage object was present (not null).
	Usage              bool
	Prompt, Completion int
	// Error says whether the document is an error ({"error": {...}}); Code
	// is its code, or its type when the code is null.
	Error bool
	Code  []byte
}

// ParseChat fills c from an OpenAI chat-completion chunk or response in
// data, which the caller has checked with json.Valid. It reports whether data
// is an object.
func ParseChat(data []byte, c *Chat) bool {
	*c = Chat{}
	return Each(data, func(k, v []byte) {
		switch string(k) {
		case "choices":
			Elems(v, func(choice []byte) { c.choice(choice) })
		case "usage":
			Each(v, func(k, v []byte) {
				switch string(k) {
				case "prompt_tokens":
					c.Prompt, _ = Int(v)
					c.Usage = true
				case "completion_tokens":
					c.Completion, _ = Int(v)
					c.Usage = true
				}
			})
		case "error":
			if IsNull(v) {
				return
			}
			c.Error = true
			var typ []byte
			Each(v, func(k, v []byte) {
				switch string(k) {
				case "code":
					if s, ok := Str(v); ok {
						c.Code = s
					} else if !IsNull(v) {
						c.Code = v // a number
					}
				case "type":
					typ, _ = Str(v)
				}
			})
			if len(c.Code) == 0 {
				c.Code = typ
			}
		}
	})
}

func (c *Chat) choice(data []byte) {
	Each(data, func(k, v []byte) {
		switch string(k) {
		case "delta", "message":
			Each(v, func(k, v []byte) {
				switch string(k) {
				case "content", "refusal":
					c.text(v)
				case "tool_calls":
					Elems(v, func(call []byte) {
						Each(call, func(k, v []byte) {
							if string(k) == "function" {
								Each(v, func(k, v []byte) {
									if string(k) == "arguments" {
										c.text(v)
									}
								})
							}
						})
					})
				}
			})
		case "finish_reason":
			if s, ok := Str(v); ok && c.Finish == nil {
				c.Finish = s
			}
		}
	})
}

// text counts a string value's tokens if it is non-empty.
func (c *Chat) text(v []byte) {
	if s, ok := Str(v); ok && len(s) > 0 {
		c.Content = true
		c.Tokens += max(1, Words(s))
	}
}
