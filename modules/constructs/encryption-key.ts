import { Construct } from "constructs";
import { KmsKey } from "@cdktf/provider-aws/lib/kms-key";

/** The AWS partition of a region: aws, aws-cn or aws-us-gov. */
export function partitionOf(region: string): string {
  if (region.startsWith("cn-")) return "aws-cn";
  if (region.startsWith("us-gov-")) return "aws-us-gov";
  return "aws";
}

export interface EncryptionKeyProps {
  readonly description: string;
  /** Account that owns the key; its IAM policies decide who else may use it. */
  readonly accountId: string;
  readonly region: string;
  /**
   * Name pattern of the CloudWatch log groups (in this account and region) that
   * may encrypt with the key, e.g. `/aws/eks/fleet-blue/*`; none when absent.
   * @default no log group may use the key
   */
  readonly logGroupNamePattern?: string;
}

/**
 * A customer-managed KMS key with yearly rotation and an explicit key policy:
 * the account's IAM policies govern it (as with the default policy), and
 * CloudWatch Logs may use it only for the named log groups.
 */
export class EncryptionKey extends Construct {
  readonly key: KmsKey;

  constructor(scope: Construct, id: string, props: EncryptionKeyProps) {
    super(scope, id);
    const partition = partitionOf(props.region);
    const statements: object[] = [
      {
        Sid: "AccountIamPolicies",
        Effect: "Allow",
        Principal: { AWS: `arn:${partition}:iam::${props.accountId}:root` },
        Action: "kms:*",
        Resource: "*",
      },
    ];
    if (props.logGroupNamePattern) {
      statements.push({
        Sid: "CloudWatchLogs",
        Effect: "Allow",
        Principal: { Service: `logs.${props.region}.amazonaws.com` },
        Action: ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
        Resource: "*",
        Condition: {
          ArnLike: {
            "kms:EncryptionContext:aws:logs:arn": `arn:${partition}:logs:${props.region}:${props.accountId}:log-group:${props.logGroupNamePattern}`,
          },
        },
      });
    }
    this.key = new KmsKey(this, "key", {
      description: props.description,
      enableKeyRotation: true,
      deletionWindowInDays: 30,
      policy: JSON.stringify({ Version: "2012-10-17", Statement: statements }),
    });
  }
}
