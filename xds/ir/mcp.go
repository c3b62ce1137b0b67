package ir

// MCP serves a route as a Model Context Protocol server whose tools call
// functions. The route's DirectResponse answers only where the MCP filter
// does not run.
type MCP struct {
	Tools           []MCPTool `json:"tools,omitempty"`
	MaxSessions     int       `json:"maxSessions"`
	MaxMessageBytes int       `json:"maxMessageBytes"`
}

// MCPTool is one tool and how a call of it reaches its function: a
// request to Path (the tool's own route, in the same virtual host), with
// each argument placed as Args say.
type MCPTool struct {
	Name        string `json:"name"`
	Description string `json:"description,omitempty"`
	// InputSchema is a JSON Schema object, as JSON text.
	InputSchema string   `json:"inputSchema"`
	ReadOnly    bool     `json:"readOnly,omitempty"`
	Destructive bool     `json:"destructive,omitempty"`
	Path        string   `json:"path"`
	Args        []MCPArg `json:"args,omitempty"`
	// ArgumentsAsBody sends the arguments object as the JSON body.
	ArgumentsAsBody bool `json:"argumentsAsBody,omitempty"`
}

// MCPArg places one argument of a call: in a header the tool's route reads
// a path, query or header parameter from (escaped for where it goes), or
// In "body": a member of the JSON body.
type MCPArg struct {
	Name   string `json:"name"`
	In     string `json:"in"`
	Header string `json:"header,omitempty"`
}
