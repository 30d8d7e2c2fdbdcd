//! CloudFormation template.
