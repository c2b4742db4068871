/**
 * The approvers the test months name (a month is started only with approvers). Tests that show a
 * refusal use someone outside this list, e.g. '外部人员'.
 */
export const TEST_APPROVERS = ['王会计', '李经理', '张三', '张审批', 'wang', 'li', 'Li', 'Li Lei'];
