package record

import (
	"encoding/json"
	"net/url"
	"strings"
)

// route is what a request's path says about the call.
type route struct {
	provider, operation string
	deployment, modelID string
	v1                  bool // Azure /openai/v1: the deployment is the body's model
}

// classify recognises the Azure OpenAI chat-completions and Bedrock Runtime
// inference routes from the escaped path: Azure's deployment and v1 routes
// (Azure OpenAI REST API reference; Microsoft Learn's v1 API page) and the
// Bedrock Runtime operations (as modelled in aws-sdk-go-v2
// service/bedrockruntime v1.63.13).
func classify(escapedPath string) (route, bool) {
	p := strings.TrimSuffix(escapedPath, "/")
	switch {
	case p == "/openai/v1/chat/completions":
		return route{provider: ProviderAzure, operation: OpChat, v1: true}, true
	case strings.HasPrefix(p, "/openai/deployments/") && strings.HasSuffix(p, "/chat/completions"):
		d := strings.TrimSuffix(strings.TrimPrefix(p, "/openai/deployments/"), "/chat/completions")
		name, err := url.PathUnescape(d)
		if err != nil || name == "" || strings.Contains(d, "/") {
			return route{}, false
		}
		return route{provider: ProviderAzure, operation: OpChat, deployment: name}, true
	case strings.HasPrefix(p, "/model/"):
		rest := strings.TrimPrefix(p, "/model/")
		i := strings.LastIndexByte(rest, '/')
		if i <= 0 {
			return route{}, false
		}
		op := rest[i+1:]
		switch op {
		case OpConverse, OpConverseStrm, OpInvoke, OpInvokeStrm:
		default:
			return route{}, false
		}
		id, err := url.PathUnescape(rest[:i])
		if err != nil || id == "" {
			return route{}, false
		}
		return route{provider: ProviderBedrock, operation: op, modelID: id}, true
	}
	return route{}, false
}

// reqInfo is what the proxy takes from a request body: limits and sizes,
// never text.
type reqInfo struct {
	stream, includeUsage bool
	maxTokens            int
	inputWords           int
	model                string // Azure v1 only: the deployment
}

// content is a message's content in any of the shapes the APIs use: a
// string, a list of parts with "text", or (Converse) a list of blocks with
// "text". Only its word count is kept.
type content struct{ words int }

func (c *content) UnmarshalJSON(b []byte) error {
	var s string
	if json.Unmarshal(b, &s) == nil {
		c.words = countWords(s)
		return nil
	}
	var parts []struct {
		Text *string `json:"text"`
	}
	if json.Unmarshal(b, &parts) == nil {
		for _, p := range parts {
			if p.Text != nil {
				c.words += countWords(*p.Text)
			}
		}
	}
	return nil // unknown shapes count as no words; the upstream judges them
}

// wireRequest holds the fields of every supported request body: Azure and
// OpenAI chat, Bedrock Converse, and the model-native InvokeModel bodies of
// Anthropic, OpenAI and Meta models.
type wireRequest struct {
	Model               string `json:"model"`
	Stream              bool   `json:"stream"`
	MaxTokens           *int   `json:"max_tokens"`
	MaxCompletionTokens *int   `json:"max_completion_tokens"`
	MaxGenLen           *int   `json:"max_gen_len"`
	StreamOptions       *struct {
		IncludeUsage bool `json:"include_usage"`
	} `json:"stream_options"`
	Messages []struct {
		Content content `json:"content"`
	} `json:"messages"`
	System          content `json:"system"`
	Prompt          content `json:"prompt"`
	InferenceConfig *struct {
		MaxTokens *int `json:"maxTokens"`
	} `json:"inferenceConfig"`
}

// parseRequest reads what the record needs from a request body. A body it
// cannot read leaves the counts at zero: the proxy passes it on regardless.
func parseRequest(rt route, body []byte) reqInfo {
	var w wireRequest
	_ = json.Unmarshal(body, &w)
	info := reqInfo{model: w.Model}
	for _, m := range w.Messages {
		info.inputWords += m.Content.words
	}
	info.inputWords += w.System.words + w.Prompt.words
	for _, p := range []*int{w.MaxCompletionTokens, w.MaxTokens, w.MaxGenLen} {
		if p != nil {
			info.maxTokens = *p
			break
		}
	}
	if w.InferenceConfig != nil && w.InferenceConfig.MaxTokens != nil {
		info.maxTokens = *w.InferenceConfig.MaxTokens
	}
	switch rt.provider {
	case ProviderAzure:
		info.stream = w.Stream
		info.includeUsage = w.StreamOptions != nil && w.StreamOptions.IncludeUsage
	case ProviderBedrock:
		info.stream = rt.operation == OpConverseStrm || rt.operation == OpInvokeStrm
	}
	return info
}

// countWords counts whitespace-separated words the way the fakes count
// tokens (fake.CountTokens).
func countWords(s string) int {
	n, in := 0, false
	for i := 0; i < len(s); i++ {
		sp := s[i] == ' ' || s[i] == '\n' || s[i] == '\t' || s[i] == '\r'
		if !sp && !in {
			n++
		}
		in = !sp
	}
	return n
}
