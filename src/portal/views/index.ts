export { html, raw, escapeHtml, safeHref, Html, type HtmlValue } from './html.js';
export type { ViewContext } from './context.js';
export { layout, type LayoutOptions } from './layout.js';
export { PORTAL_CSP, PORTAL_SECURITY_HEADERS } from './csp.js';
export { loginPage, type LoginModel, type LoginError } from './login.js';
export { verifyPage, type VerifyModel, type VerifyMethod, type VerifyError } from './verify.js';
export {
  enrollTotpPage,
  enrollDestinationPage,
  enrollChoicePage,
  enrollWebauthnPage,
  type EnrollWebauthnModel,
  recoveryCodesPage,
  groupSecret,
  type EnrollTotpModel,
  type EnrollDestinationModel,
  type EnrollChoiceModel,
  type EnrollMethod,
  type RecoveryCodesModel,
} from './enroll.js';
export { accountPage, describeUserAgent, signOutPage, recoveryCodesConfirmPage, type AccountModel, type SignOutModel, type RecoveryCodesConfirmModel } from './account.js';
export { recoverPage, invitePage, messagePage, errorPage, outboxPage, type RecoverModel, type InviteModel, type MessageModel, type ErrorPageModel, type OutboxModel } from './pages.js';
export { reportPage, type ReportModel } from './pages.js';
