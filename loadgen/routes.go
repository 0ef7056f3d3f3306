package loadgen

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/mcbench/mcbench/backends/bedrock"
	"github.com/mcbench/mcbench/backends/fake"
	"github.com/mcbench/mcbench/scenarios"
)

// FakeRoutes returns routes to every deployment of a fake server listening
// at baseURL.
func FakeRoutes(srv *fake.Server, baseURL string) map[string]Route {
	return EndpointRoutes(srv.Endpoints(baseURL))
}

// EndpointRoutes turns endpoint descriptions (what `mcbench fake --json`
// prints) into routes by deployment name: Azure ones over the chat
// completions protocol with the API key, Bedrock ones over SigV4-signed
// Converse. A deployment served on both protocols (a generic provider) is
// reached over the Azure one.
func EndpointRoutes(eps []fake.Endpoint) map[string]Route {
	out := map[string]Route{}
	for _, e := range eps {
		if _, done := out[e.Name]; done && e.Provider != "azure" {
			continue
		}
		r := Route{Name: e.Name, Provider: e.Provider, Region: e.Region, Endpoint: e.Endpoint}
		if e.Provider == "bedrock" {
			r.Kind, r.ModelID = scenarios.KindBedrock, e.ModelID
			r.Signer = bedrock.NewSigner(credentials.NewStaticCredentialsProvider(e.AccessKeyID, e.SecretAccessKey, ""))
		} else {
			r.Kind, r.Deployment, r.APIKey = scenarios.KindAzure, e.Deployment, e.APIKey
		}
		out[e.Name] = r
	}
	return out
}

// ReadEndpoints reads the JSON object `mcbench fake --json` prints first:
// {"deployments": [...]}.
func ReadEndpoints(path string) ([]fake.Endpoint, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var doc struct {
		Deployments []fake.Endpoint `json:"deployments"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("%s: not the JSON `mcbench fake --json` prints: %w", path, err)
	}
	if len(doc.Deployments) == 0 {
		return nil, fmt.Errorf("%s: no deployments", path)
	}
	return doc.Deployments, nil
}
