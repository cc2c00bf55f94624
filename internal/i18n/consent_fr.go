package i18n

// frConsent is the French catalogue of the public consent pages and mails: subscribing, confirming, unsubscribing, preferences.
var frConsent = map[string]string{
	"subscribe.review":              "Vérifiez vos informations, puis validez votre abonnement sur cette page.",
	"confirm.expired":               "Ce lien de confirmation a expiré. Pour vous abonner, remplissez à nouveau le formulaire d’inscription\u00a0: vous recevrez un nouveau lien.",
	"confirm.used":                  "Ce lien de confirmation a déjà servi\u00a0: il ne peut être utilisé qu’une fois. Si vous avez confirmé, votre abonnement est enregistré.",
	"confirm.suppressed":            "Cet abonnement ne peut pas être rétabli en ligne. Écrivez-nous pour le rétablir.",
	"unsubscribe.mailed":            "Si votre adresse peut être réabonnée, un lien de confirmation vient de lui être envoyé. Cliquez dessus pour rétablir votre abonnement.",
	"unsubscribe.reconfirm_text":    "Vous souhaitez vous réabonner\u202f? Nous vous enverrons un lien de confirmation à cette adresse.",
	"unsubscribe.reconfirm":         "Recevoir un lien de confirmation",
	"preferences.join_mailed":       "Pour les lettres que vous avez ajoutées, un lien de confirmation vient d’être envoyé à votre adresse\u00a0: elles ne vous seront envoyées qu’une fois ce lien ouvert.",
	"subscribers.lift":              "Lever la suppression",
	"subscribers.lift_hint":         "Une plainte ou une adresse en erreur définitive n’est levée qu’à la demande de la personne. Indiquez le motif\u00a0: il est inscrit dans l’historique avec votre identifiant.",
	"subscribers.lift_reason_hint":  "ex.\u00a0: plainte par erreur, confirmée par e-mail le 12/01",
	"subscribers.error.lift_status": "Seule une plainte ou une erreur définitive peut être levée ici.",
	"subscribers.error.lift_reason": "Indiquez le motif de la levée\u00a0: rien n’a été changé.",
	"flash.subscriber_lifted":       "La suppression est levée\u00a0; l’abonné est de nouveau actif.",
	"event.refused":                 "Demande refusée",
}
