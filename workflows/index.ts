export { MonthlyDeductionWorkflow } from './monthlyDeduction.js';
