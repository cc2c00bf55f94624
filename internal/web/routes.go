package web

import (
	"net/http"

	"bulletin/internal/store"
)

// routes is the one table of every URL the daemon answers.
//
// Public pages need no login: the token in the path is the credential and
// a GET never changes anything. Console pages go through s.admin (session,
// role, CSRF on every POST); "admin" marks those for the admin role only.
// API routes go through s.api (bearer token, role).
func (s *Server) routes() *http.ServeMux {
	const anyone, admin = store.RoleEditor, store.RoleAdmin
	mux := http.NewServeMux()

	// Health, assets.
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.HandleFunc("GET /metrics", s.metrics)
	mux.Handle("GET /static/", s.staticFiles())
	mux.HandleFunc("GET /theme.css", s.theme)
	mux.HandleFunc("GET /{$}", s.home)

	// Public pages: unsubscribe (and RFC 8058 one-click), preferences,
	// subscribe with double opt-in, web view, archive, media.
	mux.HandleFunc("GET /u/{token}", s.unsubscribePage)
	mux.HandleFunc("POST /u/{token}", s.unsubscribe)
	mux.HandleFunc("POST /u/{token}/resubscribe", s.resubscribe)
	mux.HandleFunc("GET /u/{token}/preferences", s.preferencesPage)
	mux.HandleFunc("POST /u/{token}/preferences", s.savePreferences)
	mux.HandleFunc("GET /subscribe", s.subscribePage)
	mux.HandleFunc("GET /subscribe/embed", s.subscribeEmbed)
	mux.HandleFunc("POST /subscribe", s.subscribe)
	mux.HandleFunc("GET /confirm/{token}", s.confirmPage)
	mux.HandleFunc("POST /confirm/{token}", s.confirm)
	mux.HandleFunc("GET /v/{campaign}", s.webView)
	mux.HandleFunc("GET /unsubscribe", s.unsubscribeHelp)
	mux.HandleFunc("GET /archive/{list}", s.archive)
	mux.HandleFunc("GET /media/{slug}/{file...}", s.media)

	// Opens and clicks, for the campaigns that track them: the pixel, and
	// the redirect to a signed link only.
	mux.HandleFunc("GET /t/o/{file}", s.trackOpen)
	mux.HandleFunc("GET /t/c/{token}", s.trackClick)

	// Admin console.
	mux.HandleFunc("GET /admin/login", s.loginPage)
	mux.HandleFunc("POST /admin/login", s.login)
	mux.Handle("POST /admin/logout", s.admin(anyone, s.logout))
	mux.Handle("GET /admin/{$}", s.admin(anyone, s.dashboard))
	mux.Handle("GET /admin/editions", s.admin(anyone, s.editionsPage))
	mux.Handle("POST /admin/editions", s.admin(anyone, s.createEdition))
	mux.Handle("GET /admin/editions/{slug}", s.admin(anyone, s.editionPage))
	mux.Handle("POST /admin/editions/{slug}", s.admin(anyone, s.saveEdition))
	mux.Handle("GET /admin/editions/{slug}/preview", s.admin(anyone, s.editionPreview))
	mux.Handle("POST /admin/editions/{slug}/preview", s.admin(anyone, s.editionPreview))
	mux.Handle("POST /admin/editions/{slug}/test", s.admin(anyone, s.testEdition))
	mux.Handle("POST /admin/editions/{slug}/media", s.admin(anyone, s.uploadEditionMedia))
	mux.Handle("POST /admin/editions/{slug}/next", s.admin(anyone, s.nextEdition))
	mux.Handle("GET /admin/editions/{slug}/files/{file...}", s.admin(anyone, s.editionFile))
	mux.Handle("GET /admin/campaigns", s.admin(anyone, s.campaignsPage))
	mux.Handle("GET /admin/campaigns/new", s.admin(anyone, s.newCampaignPage))
	mux.Handle("POST /admin/campaigns", s.admin(anyone, s.createCampaign))
	mux.Handle("GET /admin/campaigns/{campaign}", s.admin(anyone, s.campaignPage))
	mux.Handle("GET /admin/campaigns/{campaign}/status", s.admin(anyone, s.campaignStatus))
	mux.Handle("GET /admin/campaigns/{campaign}/send", s.admin(anyone, s.confirmSendPage))
	mux.Handle("POST /admin/campaigns/{campaign}/test", s.admin(anyone, s.testCampaign))
	mux.Handle("POST /admin/campaigns/{campaign}/{action}", s.admin(anyone, s.campaignAction))
	mux.Handle("GET /admin/lists", s.admin(anyone, s.listsPage))
	mux.Handle("POST /admin/lists", s.admin(anyone, s.createList))
	mux.Handle("GET /admin/lists/{list}", s.admin(anyone, s.listPage))
	mux.Handle("POST /admin/lists/{list}", s.admin(anyone, s.saveList))
	mux.Handle("POST /admin/lists/{list}/delete", s.admin(anyone, s.deleteList))
	mux.Handle("GET /admin/subscribers", s.admin(anyone, s.subscribersPage))
	mux.Handle("GET /admin/subscribers/new", s.admin(anyone, s.newSubscriberPage))
	mux.Handle("POST /admin/subscribers", s.admin(anyone, s.addSubscriber))
	mux.Handle("GET /admin/subscribers/export", s.admin(anyone, s.exportSubscribers))
	mux.Handle("GET /admin/subscribers/{subscriber}", s.admin(anyone, s.subscriberPage))
	mux.Handle("POST /admin/subscribers/{subscriber}", s.admin(anyone, s.saveSubscriber))
	mux.Handle("POST /admin/subscribers/{subscriber}/unsubscribe", s.admin(anyone, s.unsubscribeSubscriber))
	mux.Handle("POST /admin/subscribers/{subscriber}/erase", s.admin(admin, s.eraseSubscriber))
	mux.Handle("POST /admin/subscribers/{subscriber}/lift", s.admin(admin, s.liftSuppression))
	mux.Handle("GET /admin/import", s.admin(anyone, s.importPage))
	mux.Handle("POST /admin/import", s.admin(anyone, s.importCSV))
	mux.Handle("GET /admin/import/{token}", s.admin(anyone, s.importPreviewPage))
	mux.Handle("POST /admin/import/{token}", s.admin(anyone, s.importKept))
	mux.Handle("GET /admin/form", s.admin(anyone, s.formSnippetPage))
	mux.Handle("GET /admin/reports", s.admin(anyone, s.reportsIndex))
	mux.Handle("GET /admin/reports/campaigns/{campaign}", s.admin(anyone, s.reportCampaignPage))
	mux.Handle("GET /admin/reports/campaigns/{campaign}/addresses.csv", s.admin(anyone, s.reportAddressesCSV))
	mux.Handle("GET /admin/reports/campaigns/{campaign}/report.json", s.admin(anyone, s.reportCampaignJSON))
	mux.Handle("GET /admin/reports/lists", s.admin(anyone, s.reportListsPage))
	mux.Handle("GET /admin/reports/lists/{which}", s.admin(anyone, s.reportListsCSV))
	mux.Handle("GET /admin/mailbox", s.admin(anyone, s.mailboxPage))
	mux.Handle("POST /admin/mailbox/{id}/apply", s.admin(admin, s.applyMailboxEvent))
	mux.Handle("GET /admin/account", s.admin(anyone, s.accountPage))
	mux.Handle("POST /admin/account/password", s.admin(anyone, s.changePassword))
	mux.Handle("GET /admin/settings", s.admin(admin, s.settingsPage))
	mux.Handle("POST /admin/settings", s.admin(admin, s.saveSettings))
	mux.Handle("POST /admin/settings/test/smtp", s.admin(admin, s.testSMTP))
	mux.Handle("POST /admin/settings/test/imap", s.admin(admin, s.testIMAP))
	mux.Handle("GET /admin/users", s.admin(admin, s.usersPage))
	mux.Handle("POST /admin/users", s.admin(admin, s.createUser))
	mux.Handle("POST /admin/users/{user}/role", s.admin(admin, s.setUserRole))
	mux.Handle("POST /admin/users/{user}/delete", s.admin(admin, s.deleteUser))
	mux.Handle("POST /admin/tokens", s.admin(admin, s.createToken))
	mux.Handle("POST /admin/tokens/{token}/revoke", s.admin(admin, s.revokeToken))
	mux.Handle("/admin/", s.admin(anyone, s.adminNotFound))

	// JSON API.
	mux.Handle("GET /api/v1/lists", s.api(anyone, s.apiLists))
	mux.Handle("POST /api/v1/lists", s.api(anyone, s.apiCreateList))
	mux.Handle("GET /api/v1/lists/{list}", s.api(anyone, s.apiGetList))
	mux.Handle("PATCH /api/v1/lists/{list}", s.api(anyone, s.apiUpdateList))
	mux.Handle("DELETE /api/v1/lists/{list}", s.api(anyone, s.apiDeleteList))
	mux.Handle("GET /api/v1/subscribers", s.api(anyone, s.apiSubscribers))
	mux.Handle("POST /api/v1/subscribers", s.api(anyone, s.apiCreateSubscriber))
	mux.Handle("POST /api/v1/subscribers/import", s.api(anyone, s.apiImport))
	mux.Handle("GET /api/v1/subscribers/{subscriber}", s.api(anyone, s.apiGetSubscriber))
	mux.Handle("PATCH /api/v1/subscribers/{subscriber}", s.api(anyone, s.apiUpdateSubscriber))
	mux.Handle("DELETE /api/v1/subscribers/{subscriber}", s.api(admin, s.apiEraseSubscriber))
	mux.Handle("GET /api/v1/editions", s.api(anyone, s.apiEditions))
	mux.Handle("GET /api/v1/editions/{slug}", s.api(anyone, s.apiGetEdition))
	mux.Handle("PUT /api/v1/editions/{slug}", s.api(anyone, s.apiPutEdition))
	mux.Handle("GET /api/v1/campaigns", s.api(anyone, s.apiCampaigns))
	mux.Handle("POST /api/v1/campaigns", s.api(anyone, s.apiCreateCampaign))
	mux.Handle("GET /api/v1/campaigns/{campaign}", s.api(anyone, s.apiGetCampaign))
	mux.Handle("GET /api/v1/campaigns/{campaign}/report", s.api(anyone, s.apiReport))
	mux.Handle("GET /api/v1/reports/lists", s.api(anyone, s.apiReportLists))
	mux.Handle("POST /api/v1/campaigns/{campaign}/{action}", s.api(anyone, s.apiCampaignAction))
	mux.HandleFunc("/api/v1/", s.apiNotFound)
	return mux
}
