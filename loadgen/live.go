package loadgen

import (
	"context"
	"fmt"
	"os"
	"strings"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore/policy"
	"github.com/Azure/azure-sdk-for-go/sdk/azidentity"
	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/mcbench/mcbench/backends/bedrock"
	"github.com/mcbench/mcbench/scenarios"
)

// AzureKeyEnv names the environment variable holding an Azure OpenAI API
// key; a deployment-specific AZURE_OPENAI_API_KEY_<NAME> (upper case,
// non-alphanumerics as _) wins over it. Without either, live runs get an
// Entra ID token from azidentity's default credential chain.
const AzureKeyEnv = "AZURE_OPENAI_API_KEY"

// azureScope is the Entra ID scope of Azure OpenAI data-plane calls.
const azureScope = "https://cognitiveservices.azure.com/.default"

// LiveRoutes builds routes to the real endpoints of the deployments a
// strategy places, with credentials from the environment: Azure keys or
// azidentity's default chain; AWS's default credential chain (environment,
// shared files, SSO, instance roles). Credentials stay in memory.
func LiveRoutes(ctx context.Context, s *scenarios.Scenario, st *scenarios.Strategy) (map[string]Route, error) {
	kinds := map[string]string{}
	for _, p := range s.Providers {
		kinds[p.Name] = p.Kind
	}
	var azCred *azidentity.DefaultAzureCredential
	signers := map[string]*bedrock.Signer{}
	out := map[string]Route{}
	for _, names := range st.Placement {
		for _, n := range names {
			if _, done := out[n]; done {
				continue
			}
			var d *scenarios.Deployment
			for i := range s.Deployments {
				if s.Deployments[i].Name == n {
					d = &s.Deployments[i]
				}
			}
			if d == nil {
				return nil, fmt.Errorf("deployment %q is not declared", n)
			}
			r := Route{Name: d.Name, Provider: d.Provider, Region: d.Region, Endpoint: d.Endpoint}
			switch kinds[d.Provider] {
			case scenarios.KindBedrock:
				r.Kind, r.ModelID = scenarios.KindBedrock, d.Model
				if r.ModelID == "" {
					return nil, fmt.Errorf("deployment %q: a live Bedrock call needs the model id in `model`", d.Name)
				}
				if signers[d.Region] == nil {
					cfg, err := config.LoadDefaultConfig(ctx, config.WithRegion(d.Region))
					if err != nil {
						return nil, fmt.Errorf("deployment %q: AWS credentials: %w", d.Name, err)
					}
					signers[d.Region] = bedrock.NewSigner(cfg.Credentials)
				}
				r.Signer = signers[d.Region]
			default:
				r.Kind, r.Deployment = scenarios.KindAzure, d.Name
				if d.Endpoint == "" {
					return nil, fmt.Errorf("deployment %q: a live Azure call needs `endpoint` (https://NAME.openai.azure.com)", d.Name)
				}
				if key := azureKey(d.Name); key != "" {
					r.APIKey = key
					break
				}
				if azCred == nil {
					c, err := azidentity.NewDefaultAzureCredential(nil)
					if err != nil {
						return nil, fmt.Errorf("deployment %q: no %s and no Entra ID credential: %w", d.Name, AzureKeyEnv, err)
					}
					azCred = c
				}
				cred := azCred
				r.Token = func(ctx context.Context) (string, error) {
					tok, err := cred.GetToken(ctx, policy.TokenRequestOptions{Scopes: []string{azureScope}})
					return tok.Token, err
				}
			}
			out[n] = r
		}
	}
	return out, nil
}

func azureKey(deployment string) string {
	b := []byte(strings.ToUpper(deployment))
	for i, c := range b {
		if !(c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			b[i] = '_'
		}
	}
	if k := os.Getenv(AzureKeyEnv + "_" + string(b)); k != "" {
		return k
	}
	return os.Getenv(AzureKeyEnv)
}
