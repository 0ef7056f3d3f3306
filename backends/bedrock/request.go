package bedrock

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/mcbench/mcbench/backends/internal/prompt"
)

// OutputTokensHeader asks mcbench's fake to produce exactly this many output
// tokens; real endpoints ignore it.
const OutputTokensHeader = "X-Mcbench-Output-Tokens"

// ConverseRequest describes one Converse or ConverseStream call.
type ConverseRequest struct {
	// Endpoint is the runtime base URL; empty means the public endpoint of Region.
	Endpoint string
	// Region signs the request (and picks the public endpoint).
	Region string
	// ModelID is the model id, inference profile or ARN.
	ModelID string
	// InputTokens and MaxTokens shape the synthetic prompt and the limit.
	InputTokens, MaxTokens int32
	// WantOutput, if non-negative, is sent in OutputTokensHeader.
	WantOutput int32
	// Stream selects ConverseStream.
	Stream bool
}

// RuntimeEndpoint returns the public Bedrock Runtime endpoint of a region.
func RuntimeEndpoint(region string) string {
	return "https://bedrock-runtime." + region + ".amazonaws.com"
}

// NewConverseRequest builds the unsigned HTTP request and its payload hash.
func NewConverseRequest(c ConverseRequest) (*http.Request, string, error) {
	ep := c.Endpoint
	if ep == "" {
		ep = RuntimeEndpoint(c.Region)
	}
	op := "/converse"
	if c.Stream {
		op = "/converse-stream"
	}
	// Model ids carry ':' and ARNs '/', escaped as the SDK escapes path labels.
	u, err := url.Parse(ep + "/model/" + url.PathEscape(c.ModelID) + op)
	if err != nil {
		return nil, "", err
	}
	b := make([]byte, 0, 96+int(c.InputTokens)*6)
	b = append(b, `{"messages":[{"role":"user","content":[{"text":"`...)
	b = append(b, prompt.Synthetic(c.InputTokens)...)
	b = append(b, `"}]}],"inferenceConfig":{"maxTokens":`...)
	b = strconv.AppendInt(b, int64(c.MaxTokens), 10)
	b = append(b, `}}`...)
	req, err := http.NewRequest(http.MethodPost, u.String(), bytes.NewReader(b))
	if err != nil {
		return nil, "", err
	}
	req.Header.Set("Content-Type", "application/json")
	if c.WantOutput >= 0 {
		req.Header.Set(OutputTokensHeader, strconv.Itoa(int(c.WantOutput)))
	}
	sum := sha256.Sum256(b)
	return req, hex.EncodeToString(sum[:]), nil
}

// Signer signs Bedrock requests with SigV4 (service "bedrock").
type Signer struct {
	signer *v4.Signer
	creds  aws.CredentialsProvider
}

// NewSigner returns a signer drawing credentials from p (a static provider
// for the fakes, the default chain for live runs).
func NewSigner(p aws.CredentialsProvider) *Signer {
	return &Signer{signer: v4.NewSigner(), creds: p}
}

// Sign signs req in place for region at time t.
func (s *Signer) Sign(ctx context.Context, req *http.Request, payloadHash, region string, t time.Time) error {
	c, err := s.creds.Retrieve(ctx)
	if err != nil {
		return err
	}
	return s.signer.SignHTTP(ctx, c, req, payloadHash, "bedrock", region, t)
}
