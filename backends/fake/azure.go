package fake

import "net/http"

// registerAzure adds the Azure OpenAI routes. (Placeholder: being written.)
func (s *Server) registerAzure(mux *http.ServeMux) {}
