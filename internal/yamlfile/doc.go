// Package yamlfile holds what the packages that load YAML data files share
// (responsibility matrices and contracts, data-grading policies and
// catalogues): the error that says where in a file a problem is.
package yamlfile
