export { MonthlyDeductionWorkflow } from './monthlyDeduction.js';
export { ScheduledDeductionLauncher } from './scheduledLauncher.js';
export { AutoAccountingWorkflow } from './autoAccounting.js';
