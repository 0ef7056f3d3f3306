package loadgen

import (
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/mcbench/mcbench/backends/bedrock"
	"github.com/mcbench/mcbench/backends/fake"
	"github.com/mcbench/mcbench/scenarios"
)

// FakeRoutes returns routes to every deployment of a fake server listening
// at baseURL: Azure-kind and generic deployments over the Azure protocol,
// Bedrock-kind ones over SigV4-signed Converse.
func FakeRoutes(srv *fake.Server, baseURL string) map[string]Route {
	c := srv.Credentials()
	signer := bedrock.NewSigner(credentials.NewStaticCredentialsProvider(c.AccessKeyID, c.SecretAccessKey, ""))
	out := map[string]Route{}
	for _, d := range srv.Deployments() {
		r := Route{Name: d.Name, Provider: d.Provider, Region: d.Region, Endpoint: baseURL}
		if d.ProviderKind == scenarios.KindBedrock {
			r.Kind, r.Signer, r.ModelID = scenarios.KindBedrock, signer, d.Model
			if r.ModelID == "" {
				r.ModelID = d.Name
			}
		} else {
			r.Kind, r.Deployment, r.APIKey = scenarios.KindAzure, d.Name, c.APIKey
		}
		out[d.Name] = r
	}
	return out
}
