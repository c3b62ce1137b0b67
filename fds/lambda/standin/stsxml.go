package standin

import (
	"encoding/xml"
	"net/http"
)

// stsNamespace is the XML namespace of STS's query API answers.
const stsNamespace = "https://sts.amazonaws.com/doc/2011-06-15/"

type assumeRoleResponse struct {
	XMLName   xml.Name         `xml:"AssumeRoleResponse"`
	Xmlns     string           `xml:"xmlns,attr"`
	Result    assumeRoleResult `xml:"AssumeRoleResult"`
	RequestID string           `xml:"ResponseMetadata>RequestId"`
}

type assumeRoleResult struct {
	User        assumedRoleUser `xml:"AssumedRoleUser"`
	Credentials stsCredentials  `xml:"Credentials"`
}

type assumedRoleUser struct {
	ID  string `xml:"AssumedRoleId"`
	ARN string `xml:"Arn"`
}

type stsCredentials struct {
	AccessKeyID     string `xml:"AccessKeyId"`
	SecretAccessKey string `xml:"SecretAccessKey"`
	SessionToken    string `xml:"SessionToken"`
	Expiration      string `xml:"Expiration"`
}

// stsErrorResponse is how the query protocol reports errors; the SDK reads
// Error/Code and Error/Message.
type stsErrorResponse struct {
	XMLName   xml.Name `xml:"ErrorResponse"`
	Xmlns     string   `xml:"xmlns,attr"`
	Type      string   `xml:"Error>Type"`
	Code      string   `xml:"Error>Code"`
	Message   string   `xml:"Error>Message"`
	RequestID string   `xml:"RequestId"`
}

func stsError(status int, code, message string) *apiError {
	return &apiError{status: status, code: code, message: message}
}

// writeXML answers the error as STS does.
func (e *apiError) writeXML(w http.ResponseWriter, reqID string) {
	kind := "Sender"
	if e.status >= 500 {
		kind = "Receiver"
	}
	writeXML(w, e.status, stsErrorResponse{Xmlns: stsNamespace, Type: kind, Code: e.code, Message: e.message, RequestID: reqID})
}

func writeXML(w http.ResponseWriter, status int, v any) {
	data, err := xml.Marshal(v)
	if err != nil { // only our own plain types are written
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(status)
	w.Write([]byte(xml.Header)) //nolint:errcheck // the client went away
	w.Write(data)               //nolint:errcheck // the client went away
}
