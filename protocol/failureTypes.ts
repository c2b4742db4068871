/**
 * The type names of the application failures activities and workflows throw. Retry policies,
 * callers and tests match on them, and recorded histories hold them: a name never changes.
 */
export const FailureType = {
  /**
   * The bureau task is still running (6910, or a state still on its way): retried by the poll
   * policy. Thrown as a benign failure (stillProcessing): not an error in metrics or logs.
   */
  TaskPending: 'BureauTaskPending',
  /** Network, HTTP 5xx, quota, token: retried with backoff. */
  Transient: 'InvoiceCloudUnavailable',
  /** The bureau refused the operation: not retried. Details carry code and verbatim message. */
  Business: 'BureauRefused',
  /** Request or reply did not match the interface definition: not retried. */
  Protocol: 'InvoiceCloudProtocolError',
  Auth: 'InvoiceCloudAuthFailed',
  Config: 'WorkerConfigError',

  /** A run naming a tenant the workers do not serve. */
  UnknownTenant: 'UnknownTenant',
  /** Accounting rules a run cannot use (overlapping, unreadable): never retried. */
  AccountingRulesInvalid: 'AccountingRulesInvalid',
  InvoicesFileUnusable: 'InvoicesFileUnusable',

  /** Failures of the workflows themselves. */
  InvalidInput: 'InvalidInput',
  InvoicesFileNeeded: 'InvoicesFileNeeded',
  PeriodMismatch: 'PeriodMismatch',
  UnknownStatisticStatus: 'UnknownStatisticStatus',
  StatisticNotGenerated: 'StatisticNotGenerated',
  BureauDisagreesWithPlan: 'BureauDisagreesWithPlan',
  DecisionRefused: 'DecisionRefused',
  DecisionNotActedOn: 'DecisionNotActedOn',
  DeductionFailed: 'DeductionFailed',
  AccountingFailed: 'AccountingFailed',
} as const;

export type FailureTypeName = (typeof FailureType)[keyof typeof FailureType];

/** Failure types of approver notices: a notice is never the month's failure. */
export const NotificationFailureType = {
  /** The workflow named a channel this worker has no configuration for: retrying will not help. */
  UnknownChannel: 'NotificationChannelUnknown',
  InvalidRequest: 'NotificationInvalid',
  /** The channel did not take the notice (no 2xx, unreachable, rate-limited): retried. */
  Undelivered: 'NotificationUndelivered',
  /** The platform refused the notice for good (bad signature, bad key, bad body): not retried. */
  Rejected: 'NotificationRejected',
} as const;

export type NotificationFailureTypeName = (typeof NotificationFailureType)[keyof typeof NotificationFailureType];

/** The bureau's (or our configuration's) final word: retrying can't change it. */
export const FINAL_FAILURE_TYPES: FailureTypeName[] = [
  FailureType.Business,
  FailureType.Protocol,
  FailureType.Auth,
  FailureType.Config,
];
