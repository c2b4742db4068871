export { MonthlyDeductionWorkflow } from './monthlyDeduction.js';
export { ScheduledDeductionLauncher } from './scheduledLauncher.js';
