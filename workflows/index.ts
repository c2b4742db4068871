import { AutoAccountingWorkflow } from './autoAccounting.js';
import { MonthlyDeductionWorkflow } from './monthlyDeduction.js';
import { ScheduledDeductionLauncher } from './scheduledLauncher.js';
import { declareVersioningBehaviors } from './versioning.js';

export { MonthlyDeductionWorkflow, ScheduledDeductionLauncher, AutoAccountingWorkflow };

declareVersioningBehaviors({ MonthlyDeductionWorkflow, ScheduledDeductionLauncher, AutoAccountingWorkflow });
