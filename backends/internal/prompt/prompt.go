// Package prompt makes the synthetic prompts the load generator sends:
// n whitespace-separated words, which the fakes count as n input tokens.
package prompt

import "strings"

// promptWord is one token of a synthetic prompt: the fakes count one token
// per whitespace-separated word, so a prompt of n words is n input tokens.
const promptWord = "token "

// promptText holds enough words for the longest prompt a scenario can ask
// for in one slice (prompts longer than this are built on demand).
var promptText = strings.Repeat(promptWord, 1<<17)

// Synthetic returns a synthetic prompt of n tokens (words). It shares memory
// with a package-level string, so it costs nothing per request.
func Synthetic(n int32) string {
	if n <= 0 {
		return ""
	}
	if need := int(n) * len(promptWord); need <= len(promptText) {
		return promptText[:need-1]
	}
	return strings.Repeat(promptWord, int(n))[:int(n)*len(promptWord)-1]
}
