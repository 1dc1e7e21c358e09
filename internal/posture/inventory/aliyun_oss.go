package inventory

import (
	"strings"
)

// OSS calls of the aliyun importer (ossutil `api` commands with
// --output-format json, whose JSON follows the OSS XML element names).

const ossBucket = "ALIYUN::OSS::Bucket"

// ossRegion turns an OSS location ("oss-cn-hangzhou") into a region id.
func ossRegion(loc string) string { return strings.TrimPrefix(loc, "oss-") }

func (c *aliyunCall) bucketParam() (string, error) {
	return c.need("bucket", "BucketName", "Bucket", "name")
}

func (c *aliyunCall) putBucket(name, location string, a attrs) {
	if location == "" {
		location = c.param("location")
	}
	region := ossRegion(location)
	if region == "" {
		region = c.region
	}
	a["name"] = name
	c.put(ossBucket, name, region, a, withName(name))
}

func ossListBuckets(c *aliyunCall) error {
	res := asMap(field(c.resp, "ListAllMyBucketsResult"))
	owner := str(path(res, "Owner", "ID"))
	c.sawAccount(owner)
	for _, b := range objects(field(res, "Buckets"), "Bucket") {
		a := attrs{}
		loc := str(field(b, "Location"))
		a.str("location", loc)
		if r := str(field(b, "Region")); r != "" {
			a["region_id"] = r
		} else if loc != "" {
			a["region_id"] = ossRegion(loc)
		}
		a.time("creation_date", field(b, "CreationDate"))
		a.str("storage_class", field(b, "StorageClass"))
		if owner != "" {
			a["owner_id"] = owner
		}
		c.putBucket(str(field(b, "Name")), loc, a)
	}
	return nil
}

func ossGetBucketInfo(c *aliyunCall) error {
	b := asMap(path(c.resp, "BucketInfo", "Bucket"))
	name := str(field(b, "Name"))
	if name == "" {
		var err error
		if name, err = c.bucketParam(); err != nil {
			return err
		}
	}
	a := attrs{}
	loc := str(field(b, "Location"))
	a.str("location", loc)
	if loc != "" {
		a["region_id"] = ossRegion(loc)
	}
	a.time("creation_date", field(b, "CreationDate"))
	a.str("storage_class", field(b, "StorageClass"))
	a.str("data_redundancy_type", field(b, "DataRedundancyType"))
	owner := str(path(b, "Owner", "ID"))
	c.sawAccount(owner)
	a.str("owner_id", path(b, "Owner", "ID"))
	a.str("acl", path(b, "AccessControlList", "Grant"))
	a.boolean("block_public_access", field(b, "BlockPublicAccess"))
	if sse := asMap(field(b, "ServerSideEncryptionRule")); sse != nil {
		a["encryption"] = encryptionOf(sse)
	}
	if lp := asMap(field(b, "BucketPolicy")); lp != nil {
		tb := str(field(lp, "LogBucket"))
		a["logging"] = map[string]any{"enabled": tb != "", "target_bucket": tb, "target_prefix": str(field(lp, "LogPrefix"))}
	}
	if has(b, "Versioning") {
		a["versioning"] = str(field(b, "Versioning"))
	}
	a.str("transfer_acceleration", field(b, "TransferAcceleration"))
	a.str("cross_region_replication", field(b, "CrossRegionReplication"))
	c.putBucket(name, loc, a)
	return nil
}

func encryptionOf(sse map[string]any) map[string]any {
	if d := asMap(field(sse, "ApplyServerSideEncryptionByDefault")); d != nil {
		sse = d
	}
	alg := str(field(sse, "SSEAlgorithm"))
	if alg == "" {
		alg = "None"
	}
	return map[string]any{
		"algorithm":           alg,
		"kms_key_id":          str(field(sse, "KMSMasterKeyID")),
		"kms_data_encryption": str(field(sse, "KMSDataEncryption")),
	}
}

func ossGetBucketACL(c *aliyunCall) error {
	name, err := c.bucketParam()
	if err != nil {
		return err
	}
	acp := asMap(field(c.resp, "AccessControlPolicy"))
	owner := str(path(acp, "Owner", "ID"))
	c.sawAccount(owner)
	a := attrs{}
	a.str("acl", path(acp, "AccessControlList", "Grant"))
	a.str("owner_id", path(acp, "Owner", "ID"))
	c.putBucket(name, "", a)
	return nil
}

func ossGetBucketPolicy(c *aliyunCall) error {
	name, err := c.bucketParam()
	if err != nil {
		return err
	}
	a := attrs{}
	if len(c.resp) == 0 {
		a["policy_exists"] = false
		c.putBucket(name, "", a)
		return nil
	}
	doc := any(c.resp)
	if p := field(c.resp, "Policy"); p != nil { // some printers wrap the document
		doc = p
	}
	pol, err := normalizePolicy(doc)
	if err != nil {
		return err
	}
	a["policy"] = pol
	a["policy_exists"] = true
	c.putBucket(name, "", a)
	return nil
}

func ossGetBucketPolicyStatus(c *aliyunCall) error {
	name, err := c.bucketParam()
	if err != nil {
		return err
	}
	a := attrs{}
	a.boolean("policy_public", path(c.resp, "PolicyStatus", "IsPublic"))
	c.putBucket(name, "", a)
	return nil
}

func ossGetBucketPublicAccessBlock(c *aliyunCall) error {
	name, err := c.bucketParam()
	if err != nil {
		return err
	}
	a := attrs{}
	a.boolean("block_public_access", path(c.resp, "PublicAccessBlockConfiguration", "BlockPublicAccess"))
	c.putBucket(name, "", a)
	return nil
}

func ossGetBucketEncryption(c *aliyunCall) error {
	name, err := c.bucketParam()
	if err != nil {
		return err
	}
	a := attrs{}
	if len(c.resp) == 0 {
		a["encryption"] = map[string]any{"algorithm": "None", "kms_key_id": "", "kms_data_encryption": ""}
	} else {
		a["encryption"] = encryptionOf(asMap(field(c.resp, "ServerSideEncryptionRule")))
	}
	c.putBucket(name, "", a)
	return nil
}

func ossGetBucketLogging(c *aliyunCall) error {
	name, err := c.bucketParam()
	if err != nil {
		return err
	}
	le := asMap(path(c.resp, "BucketLoggingStatus", "LoggingEnabled"))
	tb := str(field(le, "TargetBucket"))
	c.putBucket(name, "", attrs{"logging": map[string]any{
		"enabled": tb != "", "target_bucket": tb, "target_prefix": str(field(le, "TargetPrefix")),
	}})
	return nil
}

func ossGetBucketVersioning(c *aliyunCall) error {
	name, err := c.bucketParam()
	if err != nil {
		return err
	}
	c.putBucket(name, "", attrs{"versioning": str(path(c.resp, "VersioningConfiguration", "Status"))})
	return nil
}
