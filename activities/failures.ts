import { ApplicationFailure, ApplicationFailureCategory } from '@temporalio/common';
import { StatisticReadError } from '../rules/statisticObject.js';
import { ConfigError } from './invoiceCloudConfig.js';
import { InvoiceCloudError } from './invoiceCloudErrors.js';
import { FailureType } from '../protocol/failureTypes.js';

export interface BureauFailureDetails {
  interfaceCode: string;
  code: string;
  message: string;
}

/**
 * "Still processing": the attempt fails so that the retry policy asks again, in Temporal's BENIGN
 * category, so the worker logs it at DEBUG and counts no failed activity execution for it. The
 * type stays BureauTaskPending: retry policies match on the type, so retries are as before.
 */
export function stillProcessing(message: string, details?: BureauFailureDetails): ApplicationFailure {
  return ApplicationFailure.create({
    message,
    type: FailureType.TaskPending,
    category: ApplicationFailureCategory.BENIGN,
    ...(details ? { details: [details] } : {}),
  });
}

/** Turns an error of an invoice-cloud call into the Temporal failure that says what to do. */
export function toActivityFailure(error: unknown, context: string): unknown {
  if (error instanceof InvoiceCloudError) {
    const details: BureauFailureDetails = {
      interfaceCode: error.interfaceCode,
      code: error.code,
      message: error.bureauMessage,
    };
    const message = `${context}: ${error.message}`;
    switch (error.kind) {
      case 'pending':
        return stillProcessing(message, details);
      case 'retryable':
        return ApplicationFailure.create({ message, type: FailureType.Transient, details: [details] });
      case 'business':
        return ApplicationFailure.nonRetryable(message, FailureType.Business, details);
      case 'protocol':
        return ApplicationFailure.nonRetryable(message, FailureType.Protocol, details);
      case 'auth':
        return ApplicationFailure.nonRetryable(message, FailureType.Auth, details);
    }
  }
  if (error instanceof ConfigError) return ApplicationFailure.nonRetryable(error.message, FailureType.Config);
  if (error instanceof StatisticReadError) {
    return ApplicationFailure.nonRetryable(`${context}: ${error.message}`, FailureType.Protocol);
  }
  return error;
}

/** Runs an invoice-cloud call and rethrows its failure classified. */
export async function classified<T>(context: string, call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    throw toActivityFailure(error, context);
  }
}
