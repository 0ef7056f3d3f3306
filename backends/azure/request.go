package azure

import (
	"bytes"
	"net/http"
	"net/url"
	"strconv"

	"github.com/mcbench/mcbench/backends/internal/prompt"
)

// APIVersion is the api-version the load generator sends on deployment
// routes: the latest GA inference API.
const APIVersion = "2024-10-21"

// OutputTokensHeader asks mcbench's fake to produce exactly this many output
// tokens, so a load test against the fakes replays the scenario's output
// lengths. Real endpoints ignore it.
const OutputTokensHeader = "X-Mcbench-Output-Tokens"

// ChatRequest describes one chat-completions call.
type ChatRequest struct {
	// Endpoint is the resource base URL (https://NAME.openai.azure.com).
	Endpoint string
	// Deployment is the deployment name.
	Deployment string
	// InputTokens and MaxTokens shape the synthetic prompt and the limit.
	InputTokens, MaxTokens int32
	// WantOutput, if non-negative, is sent in OutputTokensHeader.
	WantOutput int32
	// Stream asks for SSE with a final usage chunk.
	Stream bool
	// APIKey is sent as api-key; BearerToken (an Entra ID token) as Authorization.
	APIKey, BearerToken string
}

// NewChatRequest builds the HTTP request for a chat completion on the
// deployment route. The body is built by appending, not by encoding/json:
// the load generator builds one per request.
func NewChatRequest(c ChatRequest) (*http.Request, error) {
	u := c.Endpoint + "/openai/deployments/" + url.PathEscape(c.Deployment) + "/chat/completions?api-version=" + APIVersion
	b := make([]byte, 0, 96+int(c.InputTokens)*6)
	b = append(b, `{"messages":[{"role":"user","content":"`...)
	b = append(b, prompt.Synthetic(c.InputTokens)...)
	b = append(b, `"}],"max_tokens":`...)
	b = strconv.AppendInt(b, int64(c.MaxTokens), 10)
	if c.Stream {
		b = append(b, `,"stream":true,"stream_options":{"include_usage":true}`...)
	}
	b = append(b, '}')
	req, err := http.NewRequest(http.MethodPost, u, bytes.NewReader(b))
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/json")
	if c.Stream {
		req.Header.Set("Accept", "text/event-stream")
	} else {
		req.Header.Set("Accept", "application/json")
	}
	if c.BearerToken != "" {
		req.Header.Set("Authorization", "Bearer "+c.BearerToken)
	} else {
		req.Header.Set("api-key", c.APIKey)
	}
	if c.WantOutput >= 0 {
		req.Header.Set(OutputTokensHeader, strconv.Itoa(int(c.WantOutput)))
	}
	return req, nil
}
