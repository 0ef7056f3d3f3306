package fake

import "net/http"

// registerBedrock adds the Bedrock Runtime routes. (Placeholder: being written.)
func (s *Server) registerBedrock(mux *http.ServeMux) {}
