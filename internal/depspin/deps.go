// Package depspin pins SDK modules in go.mod until the packages that use them land.
package depspin

import (
	_ "github.com/Azure/azure-sdk-for-go/sdk/ai/azopenai"
	_ "github.com/Azure/azure-sdk-for-go/sdk/azcore"
	_ "github.com/aws/aws-sdk-go-v2/aws"
	_ "github.com/aws/aws-sdk-go-v2/aws/protocol/eventstream"
	_ "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	_ "github.com/aws/aws-sdk-go-v2/credentials"
	_ "github.com/aws/aws-sdk-go-v2/service/bedrockruntime"
	_ "github.com/openai/openai-go/v3"
	_ "github.com/openai/openai-go/v3/azure"
	_ "github.com/tsenart/vegeta/v12/lib"
)
