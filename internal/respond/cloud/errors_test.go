package cloud

import (
	"errors"
	"testing"
)

func TestAPIError(t *testing.T) {
	// A provider error: code, message, request id, and the SDK error wrapped.
	f := newAWSFake(t).on("RevokeSecurityGroupIngress", awsReply{Status: 400, Body: ec2ErrorXML("InvalidGroup.NotFound", "no such group")})
	a := awsRevokeIngress{clients: f.clients()}
	_, err := a.Do(bg, call(params(t, a, revokeSSH)))
	var ae *APIError
	if !errors.As(err, &ae) || ae.Code != "InvalidGroup.NotFound" || ae.Operation != "RevokeSecurityGroupIngress" || ae.Resource != "sg-0123456789abcdef0" || ae.Unwrap() == nil {
		t.Fatalf("error %#v", err)
	}
	if ErrorCode(err) != "InvalidGroup.NotFound" || ErrorCode(errors.New("x")) != "" {
		t.Errorf("ErrorCode = %q", ErrorCode(err))
	}

	// A transport error: no code, the cause in the text.
	g := newAWSFake(t)
	g.srv.Close()
	b := awsRevokeIngress{clients: g.clients()}
	_, err = b.Do(bg, call(params(t, b, revokeSSH)))
	assertErr(t, err, NameAWSRevokeIngress, "sg-0123456789abcdef0", "RevokeSecurityGroupIngress failed", "connection refused")
	if ErrorCode(err) != "" {
		t.Errorf("transport error with code %q", ErrorCode(err))
	}

	h := newAliFake(t)
	h.srv.Close()
	c := aliDisableKey{clients: h.clients(t)}
	_, err = c.Do(bg, call(params(t, c, `{"user_name":"bob","access_key_id":"`+testLTAI+`"}`)))
	assertErr(t, err, NameAliDisableKey, testLTAI, "ListAccessKeys failed", "connection refused")
}
